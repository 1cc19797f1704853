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
            let experiment = try preparing { try Experiments.load(file: file, cacheDirectory: cache) }
            let runner = Runner(experiment: experiment, jobs: 1, progress: quiet ? nil : ProgressLine())
            let outcome = try runner.runTask(task)
            switch outcome.status {
            case .ran: print(String(format: "ran %@ (%.1f s)", task, outcome.seconds))
            case .cached: print("cached \(task)")
            case .failed(let message): throw CommandError("task \(task) failed: \(message)")
            case .skipped(let reason): throw CommandError("task \(task) skipped: \(reason)")
            }
        }
    }
}
