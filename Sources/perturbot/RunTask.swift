import ArgumentParser
import Foundation
import Pipeline

/// `perturbot run-task FILE --task ID`: one planned task against the cache, as a cluster job or
/// a Snakemake rule runs it.
struct RunTask: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-task",
        abstract: "Run one planned task of a pipeline against its cache (inputs must be cached; idempotent).")

    @Argument(help: "The pipeline YAML file.")
    var file: String

    @Option(parsing: .unconditional, help: "The task id, as `perturbot run --dry-run` lists it (e.g. solve/cisplatin/d16/seed0/eot).")
    var task: String

    @Option(parsing: .unconditional, help: "Cache folder (default: .perturbot-cache next to the pipeline file).")
    var cache: String?

    @Flag(help: "No progress line.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            if InverseOTExperiment.declares(file: file) { return try runInverseOTTask() }
            let (spec, plan, taskCache, dataPath) = try preparing { try Runner.prepare(file: file, cacheDirectory: cache) }
            let runner = Runner(spec: spec, plan: plan, cache: taskCache, dataPath: dataPath, jobs: 1,
                                progress: quiet ? nil : ProgressLine())
            let outcome = try runner.runTask(task)
            switch outcome.status {
            case .ran: print(String(format: "ran %@ (%.1f s)", task, outcome.seconds))
            case .cached: print("cached \(task)")
            case .failed(let message): throw CommandError("task \(task) failed: \(message)")
            case .skipped(let reason): throw CommandError("task \(task) skipped: \(reason)")
            }
        }
    }

    private func runInverseOTTask() throws {
        let (spec, tasks, taskCache) = try preparing { try InverseOTExperiment.prepare(file: file, cacheDirectory: cache) }
        guard let planned = tasks.first(where: { $0.id == task }) else {
            throw CommandError("no task \(task) in this experiment (`perturbot run --dry-run` lists the task ids)")
        }
        guard let outcome = InverseOTExperiment.execute(spec, tasks: [planned], cache: taskCache, jobs: 1,
                                                        progress: quiet ? nil : ProgressLine()).first else { return }
        if let error = outcome.error { throw CommandError("task \(task) failed: \(error)") }
        print(outcome.ran ? "ran \(task)" : "cached \(task)")
    }
}
