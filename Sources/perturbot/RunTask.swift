import ArgumentParser
import Foundation
import Pipeline

/// `perturbot run-task FILE --task ID [--task ID …]`: planned tasks against the cache, one
/// after the other, as a cluster job or a Snakemake rule runs them; the pipeline is read and
/// planned once for all of them.
struct RunTask: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-task",
        abstract: "Run planned tasks of a pipeline against its cache, in order (inputs must be cached; idempotent).")

    @Argument(help: "The pipeline YAML file.")
    var file: String

    @Option(parsing: .unconditionalSingleValue, help: "A task id, as `perturbot run --dry-run` lists it (e.g. solve/cisplatin/d16/seed0/eot); repeat for several.")
    var task: [String] = []

    func validate() throws {
        guard !task.isEmpty else { throw ValidationError("--task: give at least one task id") }
    }

    @Option(parsing: .unconditional, help: "Cache folder (default: .perturbot-cache next to the pipeline file).")
    var cache: String?

    @Flag(help: "No progress line.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            let experiment = try preparing { try Experiments.load(file: file, cacheDirectory: cache) }
            let runner = Runner(experiment: experiment, jobs: 1, progress: quiet ? nil : ProgressLine())
            // Every task is tried; the job fails (and its dependants are cancelled) when one did.
            // scancel's SIGTERM (or Ctrl-C) lets go of the locks and temporaries at once.
            runner.tally.begin(total: task.count)
            let interrupt = OnInterrupt.stoppingRun(runner)
            defer { interrupt.disarm() }
            var problems: [String] = []
            for task in task {
                let outcome = try runner.runTask(task)
                runner.tally.record(outcome.status)
                switch outcome.status {
                case .ran: print(String(format: "ran %@ (%.1f s)", task, outcome.seconds))
                case .cached: print("cached \(task)")
                case .failed(let message): problems.append("task \(task) failed: \(message)")
                case .skipped(let reason): problems.append("task \(task) skipped: \(reason)")
                }
            }
            if problems.count == 1 { throw CommandError(problems[0]) }
            if !problems.isEmpty { throw MultiLineError(lines: problems) }
        }
    }
}
