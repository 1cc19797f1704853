import ArgumentParser
import Foundation
import Pipeline

/// `perturbot run FILE`: run a pipeline, reusing every cached task, and write its report.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a pipeline file: load → pca → split → solve → evaluate → report, reusing cached tasks.")

    @Argument(help: "The pipeline YAML file.")
    var file: String

    @Flag(help: "List the tasks as cached or to-run, and run nothing.")
    var dryRun = false

    @Option(help: "Tasks run at once (each solver already uses every core for its large products).")
    var jobs = 1

    @Option(help: "Cache folder (default: .perturbot-cache next to the pipeline file).")
    var cache: String?

    @Flag(help: "No progress line.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            if InverseOTExperiment.declares(file: file) { return try runInverseOTExperiment() }
            let start = DispatchTime.now().uptimeNanoseconds
            let (spec, plan, taskCache, dataPath) = try preparing { try Runner.prepare(file: file, cacheDirectory: cache) }
            let runner = Runner(spec: spec, plan: plan, cache: taskCache, dataPath: dataPath, jobs: jobs,
                                progress: quiet || dryRun ? nil : ProgressLine())
            if dryRun {
                let cached = runner.cachedTaskIDs()
                for task in plan.tasks { print("\(cached.contains(task.id) ? "cached" : "to-run")  \(task.id)") }
                print("\(cached.count) cached, \(plan.tasks.count - cached.count) to run")
                return
            }
            let outcomes = runner.run()
            var failures: [(task: String, message: String)] = []
            for outcome in outcomes {
                switch outcome.status {
                case .failed(let message): failures.append((outcome.id, message))
                case .skipped(let reason): failures.append((outcome.id, "skipped: \(reason)"))
                default: break
                }
            }
            let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let folder = try ReportWriter.write(spec: spec, pipelineFile: file, plan: plan, cache: taskCache,
                                                evaluations: runner.evaluations(),
                                                failures: failures, wallSeconds: wall)
            let ran = outcomes.filter { $0.status == .ran }.count, reused = outcomes.filter { $0.status == .cached }.count
            print("\(ran) task(s) run, \(reused) reused, \(failures.count) failed or skipped")
            print(folder.appendingPathComponent("report.md").path)
            if !failures.isEmpty {
                throw CommandError("\(failures.count) task(s) failed or were skipped; see the Failures section of the report")
            }
        }
    }
}

extension Run {
    /// An `experiment: inverse_ot` file: its grid of tasks against the same cache, then its report.
    func runInverseOTExperiment() throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let (spec, tasks, taskCache) = try preparing { try InverseOTExperiment.prepare(file: file, cacheDirectory: cache) }
        if dryRun {
            let cached = tasks.filter { taskCache.contains($0.key) }.map(\.id)
            for task in tasks { print("\(cached.contains(task.id) ? "cached" : "to-run")  \(task.id)") }
            print("\(cached.count) cached, \(tasks.count - cached.count) to run")
            return
        }
        let outcomes = InverseOTExperiment.execute(spec, tasks: tasks, cache: taskCache, jobs: jobs,
                                                   progress: quiet ? nil : ProgressLine())
        let failures = outcomes.compactMap { outcome in outcome.error.map { (task: outcome.task.id, message: $0) } }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let written = try InverseOTReportWriter.write(spec: spec, pipelineFile: file, records: outcomes.compactMap(\.record),
                                                      failures: failures, wallSeconds: wall)
        let ran = outcomes.filter { $0.ran && $0.error == nil }.count
        print("\(ran) task(s) run, \(outcomes.count - ran - failures.count) reused, \(failures.count) failed")
        print(written.appendingPathComponent("report.md").path)
        if !failures.isEmpty {
            throw CommandError("\(failures.count) task(s) failed; see the Failures section of the report")
        }
    }
}

/// Turns a pipeline file's problems into one error line each.
func preparing<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as PipelineSpecError {
        throw MultiLineError(lines: error.lines)
    }
}
