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

        @Flag(help: "One line per stage (tasks, cached, missing, size) and one for unused entries, instead of one line per task: a screen's tens of thousands of tasks at a glance.")
        var summary = false

        @Option(parsing: .unconditional, help: "Only the tasks of this stage (load, pca, split, ceiling, solve, evaluate, gene_score).")
        var stage: String?

        func run() throws {
            try reportingErrors {
                let (all, taskCache) = try location.plannedTasks()
                let planned = Set(all.map(\.key))
                let tasks = stage.map { stage in all.filter { $0.id.split(separator: "/").first.map(String.init) == stage } } ?? all
                if let stage, tasks.isEmpty {
                    let stages = Set(all.compactMap { $0.id.split(separator: "/").first.map(String.init) }).sorted()
                    throw CommandError("--stage: no task of stage '\(stage)' in this pipeline (stages: \(stages.joined(separator: ", ")))")
                }
                let unused = taskCache.listing().filter { !planned.contains($0.key) }
                guard summary else {
                    for task in tasks {
                        print("\(taskCache.contains(task.key) ? "cached " : "missing")  \(task.key.prefix(12))  \(task.id)")
                    }
                    if stage == nil {
                        for entry in unused {
                            print("unused   \(entry.key.prefix(12))  \(entry.manifest?.task ?? "(incomplete entry)")")
                        }
                    }
                    return
                }
                // Per stage, in plan order: tasks, cached, missing, bytes of the cached entries.
                var order: [String] = [], counts: [String: (tasks: Int, cached: Int, bytes: Int)] = [:]
                for task in tasks {
                    let name = task.id.split(separator: "/").first.map(String.init) ?? task.id
                    if counts[name] == nil { order.append(name) }
                    var entry = counts[name] ?? (0, 0, 0)
                    entry.tasks += 1
                    if let manifest = taskCache.manifest(task.key) {
                        entry.cached += 1
                        entry.bytes += manifest.sizes?.values.reduce(0, +) ?? 0
                    }
                    counts[name] = entry
                }
                func size(_ bytes: Int) -> String {
                    let units = ["B", "kB", "MB", "GB", "TB"]
                    var value = Double(bytes), unit = 0
                    while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
                    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
                }
                print("stage        tasks    cached   missing  size")
                for name in order {
                    guard let entry = counts[name] else { continue }
                    func column(_ value: Int, _ width: Int) -> String { String(repeating: " ", count: max(0, width - String(value).count)) + String(value) }
                    print(name.padding(toLength: 10, withPad: " ", startingAt: 0) + column(entry.tasks, 8) + column(entry.cached, 10)
                          + column(entry.tasks - entry.cached, 10) + "  " + size(entry.bytes))
                }
                if stage == nil {
                    let unusedBytes = unused.reduce(0) { $0 + ($1.manifest?.sizes?.values.reduce(0, +) ?? 0) }
                    print("unused entries: \(unused.count) (\(size(unusedBytes)); `perturbot cache gc` removes them)")
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
