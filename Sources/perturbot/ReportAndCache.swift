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
            if InverseOTExperiment.declares(file: file) {
                let (spec, tasks, taskCache) = try preparing { try InverseOTExperiment.prepare(file: file, cacheDirectory: cache) }
                let records = tasks.map { InverseOTExperiment.cachedRecord($0, in: taskCache) }
                let missing = zip(tasks, records).filter { $0.1 == nil }
                    .map { (task: $0.0.id, message: "not in the cache (not run yet, or failed)") }
                let folder = try InverseOTReportWriter.write(spec: spec, pipelineFile: file, records: records.compactMap { $0 },
                                                             failures: missing, wallSeconds: nil)
                print(folder.appendingPathComponent("report.md").path)
                return
            }
            let (spec, plan, taskCache, dataPath) = try preparing { try Runner.prepare(file: file, cacheDirectory: cache) }
            let runner = Runner(spec: spec, plan: plan, cache: taskCache, dataPath: dataPath, jobs: 1, progress: nil)
            let cached = runner.cachedTaskIDs()
            let missing = plan.tasks.filter { $0.stage == .evaluate && !cached.contains($0.id) }
                .map { (task: $0.id, message: "not in the cache (not run yet, or failed)") }
            let folder = try ReportWriter.write(spec: spec, pipelineFile: file, plan: plan, cache: taskCache,
                                                evaluations: runner.evaluations(),
                                                failures: missing, wallSeconds: nil)
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

        /// Every planned task's id and key, and the cache, for either kind of pipeline file.
        func plannedTasks() throws -> ([(id: String, key: String)], TaskCache) {
            if InverseOTExperiment.declares(file: file) {
                let (_, tasks, taskCache) = try preparing { try InverseOTExperiment.prepare(file: file, cacheDirectory: cache) }
                return (tasks.map { ($0.id, $0.key) }, taskCache)
            }
            let (_, plan, taskCache, _) = try preparing { try Runner.prepare(file: file, cacheDirectory: cache) }
            return (plan.tasks.map { ($0.id, $0.key) }, taskCache)
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
