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

    @Option(parsing: .unconditional, help: "Tasks run at once (each solver already uses every core for its large products).")
    var jobs = 1

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs: must be a whole number ≥ 1 (tasks run at once), got \(jobs)") }
    }

    @Option(parsing: .unconditional, help: "Cache folder (default: .perturbot-cache next to the pipeline file).")
    var cache: String?

    @Flag(help: "No progress line.")
    var quiet = false

    enum Executor: String, ExpressibleByArgument, CaseIterable {
        case local, slurm
    }

    @Option(parsing: .unconditional, help: "Where tasks run: local (this process) or slurm (sbatch job arrays per stage, polled with squeue).")
    var executor: Executor = .local

    @OptionGroup(title: "Slurm (with --executor slurm)")
    var slurm: SlurmOptions

    func run() throws {
        try reportingErrors {
            let start = DispatchTime.now().uptimeNanoseconds
            let experiment = try preparing { try Experiments.load(file: file, cacheDirectory: cache) }
            let tasks = experiment.tasks
            if executor == .slurm {
                return try runOnSlurm(tasks.map { ($0.id, $0.key, $0.stage) }, cache: experiment.cache, start: start) { failures, wall in
                    try experiment.writeReport(failures: failures, wallSeconds: wall)
                }
            }
            let runner = Runner(experiment: experiment, jobs: jobs, progress: quiet || dryRun ? nil : ProgressLine())
            if dryRun {
                let cached = runner.cachedTaskIDs()
                for task in tasks { print("\(cached.contains(task.id) ? "cached" : "to-run")  \(task.id)") }
                print("\(cached.count) cached, \(tasks.count - cached.count) to run")
                return
            }
            if let problem = OutputPaths.cacheProblem(experiment.cache.root, tasksToRun: tasks.count - runner.cachedTaskIDs().count)
                ?? OutputPaths.reportProblem(experiment.reportTarget.deletingLastPathComponent()) {
                throw CommandError(problem)
            }
            let interrupt = OnInterrupt.stoppingRun(runner)
            experiment.cache.removeStaleTemporaries()
            let outcomes = runner.run()
            interrupt.disarm()
            var failures: [(task: String, message: String)] = []
            for outcome in outcomes {
                switch outcome.status {
                case .failed(let message): failures.append((outcome.id, message))
                case .skipped(let reason): failures.append((outcome.id, "skipped: \(reason)"))
                default: break
                }
            }
            let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let folder = try experiment.writeReport(failures: failures, wallSeconds: wall)
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
    /// The tasks not in the cache as Slurm job arrays, then the report from the cache.
    func runOnSlurm(
        _ tasks: [(id: String, key: String, stage: String)], cache taskCache: TaskCache, start: UInt64,
        report: ([(task: String, message: String)], Double) throws -> URL
    ) throws {
        let slurmExecutor = try SlurmExecutor(options: slurm.resources, pipelineFile: file, cacheRoot: taskCache.root)
        let missing = tasks.filter { !taskCache.contains($0.key) }
        var stages: [SlurmExecutor.Stage] = []
        for name in missing.map(\.stage) where !stages.contains(where: { $0.name == name }) {
            stages.append(SlurmExecutor.Stage(name: name, tasks: missing.filter { $0.stage == name }.map(\.id)))
        }
        let submissions = slurmExecutor.submissions(stages)
        if dryRun {
            for submission in submissions {
                print("# \(submission.scriptPath.path): \(submission.tasks.count) task(s) of stage \(submission.stage)")
                print(submission.script)
            }
            print("\(tasks.count - missing.count) cached, \(missing.count) to run")
            return
        }
        var failures: [(task: String, message: String)] = []
        if !missing.isEmpty {
            let jobs = try slurmExecutor.submit(submissions)
            if !quiet {
                FileHandle.standardError.write(Data(("submitted \(missing.count) task(s) as Slurm job(s) \(jobs.joined(separator: ", ")); "
                                                     + "logs in \(slurmExecutor.workFolder.appendingPathComponent("logs").path)\n").utf8))
            }
            let interrupt = OnInterrupt.cancellingSlurmJobs(jobs)
            let progress = quiet ? nil : ProgressLine()
            var finished = Set<String>()
            try slurmExecutor.wait(for: jobs) { pending, running in
                for task in missing where !finished.contains(task.id) && taskCache.contains(task.key) { finished.insert(task.id) }
                progress?.update(done: tasks.count - missing.count + finished.count, total: tasks.count,
                                 current: "slurm: \(running) running, \(pending) pending")
            }
            progress?.finish()
            interrupt.disarm()
            let states = slurmExecutor.accountedStates(jobs)
            let keys = Dictionary(missing.map { ($0.id, $0.key) }, uniquingKeysWith: { a, _ in a })
            for (submission, job) in zip(submissions, jobs) {
                for (index, id) in submission.tasks.enumerated() where !taskCache.contains(keys[id] ?? "") {
                    let element = submission.element(ofTask: index)
                    let log = submission.logPath(ofElement: element)
                    let state = states?["\(job)_\(element)"].map { " (\($0))" } ?? ""
                    let lastLine = (try? String(contentsOfFile: log, encoding: .utf8))?
                        .split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
                    let detail = lastLine.map { "; it ended with: \($0)" } ?? "; no log (cancelled before it ran: an input's job failed)"
                    failures.append((id, "Slurm job \(job)_\(element)\(state) stored no result; log \(log)\(detail)"))
                }
            }
        }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let folder = try report(failures, wall)
        print("\(missing.count - failures.count) task(s) run, \(tasks.count - missing.count) reused, \(failures.count) failed or skipped")
        print(folder.appendingPathComponent("report.md").path)
        if !failures.isEmpty {
            throw CommandError("\(failures.count) task(s) failed or were skipped; see the Failures section of the report")
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
