import ArgumentParser
import Foundation
import Pipeline

/// `perturbot report FILE`: rebuild a pipeline's report from the cache alone, running nothing.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild a pipeline's report from its cache (tasks not in the cache are listed as missing).")

    @Argument(help: "The pipeline YAML file.")
    var file: String

    @Option(parsing: .unconditional, help: "Cache folder (default: .perturbot-cache next to the pipeline file).")
    var cache: String?

    func run() throws {
        try reportingErrors {
            let experiment = try preparing { try Experiments.load(file: file, cacheDirectory: cache) }
            let byID = Dictionary(experiment.tasks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let missing = experiment.resultTaskIDs.filter { byID[$0].map { !experiment.cache.contains($0.key) } ?? true }
                .map { (task: $0, message: "not in the cache (not run yet, or failed)") }
            let folder = try experiment.writeReport(failures: missing, wallSeconds: nil)
            print(folder.appendingPathComponent("report.md").path)
        }
    }
}

/// `perturbot cache ls|gc FILE`: what a pipeline's cache holds, and removing what it no longer needs.
struct Cache: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect or clean a pipeline's task cache.", subcommands: [List.self, CollectGarbage.self])

    struct Location: ParsableArguments {
        @Argument(help: "The pipeline YAML file.")
        var file: String

        @Option(parsing: .unconditional, help: "Cache folder (default: .perturbot-cache next to the pipeline file).")
        var cache: String?

        /// Every planned task's id and key, and the cache.
        func plannedTasks() throws -> ([(id: String, key: String)], TaskCache) {
            let experiment = try preparing { try Experiments.load(file: file, cacheDirectory: cache) }
            return (experiment.tasks.map { ($0.id, $0.key) }, experiment.cache)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls", abstract: "List the pipeline's tasks with their cache state, and entries it does not use.")

        @OptionGroup var location: Location

        func run() throws {
            try reportingErrors {
                let (tasks, taskCache) = try location.plannedTasks()
                let planned = Set(tasks.map(\.key))
                for task in tasks {
                    print("\(taskCache.contains(task.key) ? "cached " : "missing")  \(task.key.prefix(12))  \(task.id)")
                }
                let unused = taskCache.listing().filter { !planned.contains($0.key) }
                for entry in unused {
                    print("unused   \(entry.key.prefix(12))  \(entry.manifest?.task ?? "(incomplete entry)")")
                }
            }
        }
    }

    struct CollectGarbage: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc", abstract: "Remove cache entries this pipeline does not use, incomplete entries and temporary files.")

        @OptionGroup var location: Location

        func run() throws {
            try reportingErrors {
                let (tasks, taskCache) = try location.plannedTasks()
                let removed = try taskCache.collectGarbage(keeping: Set(tasks.map(\.key)))
                print("removed \(removed) entr\(removed == 1 ? "y" : "ies") from \(taskCache.root.path)")
            }
        }
    }
}
