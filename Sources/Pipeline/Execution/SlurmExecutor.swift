import Foundation

/// The resources of each Slurm job (the Slurm executor plugin of Snakemake maps the same
/// resources to the same sbatch flags; REFERENCES Part A §4.1); nil leaves Slurm's default.
public struct SlurmResources: Sendable {
    public var partition: String?
    public var time: String?
    public var mem: String?
    public var cpus: Int?
    public var account: String?
    /// Jobs of one stage running at once (the array's %N throttle).
    public var maxJobs: Int?
    /// Seconds between squeue polls.
    public var poll: Double = 5

    public init() {}

    /// Itself, or the first value out of range, naming its command-line flag.
    public func validated() throws -> SlurmResources {
        if let cpus, cpus < 1 { throw PipelineError.executor("--cpus must be at least 1, got \(cpus)") }
        if let maxJobs, maxJobs < 1 { throw PipelineError.executor("--max-jobs must be at least 1, got \(maxJobs)") }
        guard poll.isFinite, poll > 0 else { throw PipelineError.executor("--poll must be a positive number of seconds, got \(poll)") }
        for (flag, value) in [("--partition", partition), ("--time", time), ("--mem", mem), ("--account", account)] {
            if let value, value.isEmpty || value.contains(where: { $0.isWhitespace || $0 == "'" }) {
                throw PipelineError.executor("\(flag) must be one word without quotes, got '\(value)'")
            }
        }
        return self
    }
}

/// Runs a pipeline's missing tasks as Slurm jobs: one job array per stage (chunks of at most
/// 1,000 elements, Slurm's default MaxArraySize), each element `perturbot run-task` on one
/// task, each stage's arrays `afterok` on the earlier stages' (with --kill-on-invalid-dep, so
/// a failed input cancels its dependants instead of leaving them pending). The cache is the
/// only channel between jobs, so it must be on a filesystem every node sees.
public struct SlurmExecutor {
    public struct Stage {
        public let name: String
        public let tasks: [String]

        public init(name: String, tasks: [String]) {
            self.name = name
            self.tasks = tasks
        }
    }

    /// One array's script and its task list.
    public struct Submission {
        public let stage: String
        public let script: String
        public let scriptPath: URL
        public let tasksPath: URL
        public let tasks: [String]
        public let logPattern: String

        public func logPath(ofElement element: Int) -> String { logPattern.replacingOccurrences(of: "%a", with: "\(element)") }
    }

    let options: SlurmResources
    let pipelineFile: String
    let cacheRoot: URL
    public let workFolder: URL
    let perturbot: String

    public init(options: SlurmResources, pipelineFile: String, cacheRoot: URL) throws {
        self.options = try options.validated()
        self.pipelineFile = URL(fileURLWithPath: pipelineFile).standardizedFileURL.path
        self.cacheRoot = cacheRoot.standardizedFileURL
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        workFolder = URL(fileURLWithPath: self.pipelineFile).deletingLastPathComponent()
            .appendingPathComponent(".perturbot-slurm/\(stamp)-\(getpid())")
        perturbot = ExternalCommand.currentExecutable
    }

    static let maximumArraySize = 1000

    public func submissions(_ stages: [Stage]) -> [Submission] {
        stages.flatMap { stage -> [Submission] in
            stride(from: 0, to: stage.tasks.count, by: Self.maximumArraySize).map { start in
                let chunk = Array(stage.tasks[start..<Swift.min(stage.tasks.count, start + Self.maximumArraySize)])
                let label = stage.tasks.count > Self.maximumArraySize ? "\(stage.name)-\(start / Self.maximumArraySize)" : stage.name
                let tasksPath = workFolder.appendingPathComponent("\(label).tasks")
                let logPattern = workFolder.appendingPathComponent("logs/\(label)-%a.log").path
                return Submission(stage: stage.name, script: script(label, tasks: chunk, tasksPath: tasksPath, logPattern: logPattern),
                                  scriptPath: workFolder.appendingPathComponent("\(label).sbatch"),
                                  tasksPath: tasksPath, tasks: chunk, logPattern: logPattern)
            }
        }
    }

    func script(_ label: String, tasks: [String], tasksPath: URL, logPattern: String) -> String {
        var lines = ["#!/bin/bash", "#SBATCH --job-name=perturbot-\(label)",
                     "#SBATCH --array=0-\(tasks.count - 1)" + (options.maxJobs.map { "%\($0)" } ?? ""),
                     "#SBATCH --output=\(logPattern)"]
        if let partition = options.partition { lines.append("#SBATCH --partition=\(partition)") }
        if let time = options.time { lines.append("#SBATCH --time=\(time)") }
        if let mem = options.mem { lines.append("#SBATCH --mem=\(mem)") }
        if let cpus = options.cpus { lines.append("#SBATCH --cpus-per-task=\(cpus)") }
        if let account = options.account { lines.append("#SBATCH --account=\(account)") }
        lines += [
            "set -euo pipefail",
            "task=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" \(quoted(tasksPath.path)))",
            "exec \(quoted(perturbot)) run-task \(quoted(pipelineFile)) --task \"$task\" --cache \(quoted(cacheRoot.path)) --quiet",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the scripts and submits them in order; returns the job ids.
    public func submit(_ submissions: [Submission]) throws -> [String] {
        try FileManager.default.createDirectory(at: workFolder.appendingPathComponent("logs"), withIntermediateDirectories: true)
        var jobs: [String] = []
        for submission in submissions {
            try Data(submission.tasks.map { $0 + "\n" }.joined().utf8).write(to: submission.tasksPath)
            try Data(submission.script.utf8).write(to: submission.scriptPath)
            var arguments = ["--parsable"]
            // Earlier stages' arrays; chunks of one stage are independent of each other.
            let earlier = zip(submissions, jobs).filter { $0.0.stage != submission.stage }.map(\.1)
            if !earlier.isEmpty { arguments += ["--dependency=afterok:" + earlier.joined(separator: ":"), "--kill-on-invalid-dep=yes"] }
            let result = try ExternalCommand.run("sbatch", arguments + [submission.scriptPath.path])
            guard result.status == 0, let id = result.stdout.split(separator: "\n").first?.split(separator: ";").first else {
                if !jobs.isEmpty { _ = try? ExternalCommand.run("scancel", jobs) }
                throw PipelineError.executor("sbatch \(submission.scriptPath.path) failed: \(oneLine(result.stderr.isEmpty ? result.stdout : result.stderr))")
            }
            jobs.append(String(id))
        }
        return jobs
    }

    /// Polls squeue until none of `jobs` is queued or running; `tick` gets the counts of
    /// pending and running array elements each round.
    public func wait(for jobs: [String], tick: (_ pending: Int, _ running: Int) -> Void) throws {
        while true {
            let result = try ExternalCommand.run("squeue", ["-h", "-r", "-j", jobs.joined(separator: ","), "-o", "%i|%T"])
            // squeue exits 1 with "Invalid job id" once every job has left the queue.
            if result.status != 0 && !result.stderr.contains("Invalid job id") {
                throw PipelineError.executor("squeue failed: \(oneLine(result.stderr))")
            }
            let states = result.stdout.split(separator: "\n").compactMap { $0.split(separator: "|").last.map(String.init) }
            let live = states.filter { !["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED"].contains($0) }
            if live.isEmpty { return }
            tick(live.filter { $0 == "PENDING" }.count, live.filter { $0 == "RUNNING" || $0 == "COMPLETING" }.count)
            Thread.sleep(forTimeInterval: options.poll)
        }
    }

    /// Final states from sacct where accounting exists (nil otherwise): "jobid_index" → state.
    public func accountedStates(_ jobs: [String]) -> [String: String]? {
        guard let result = try? ExternalCommand.run("sacct", ["-n", "-P", "-X", "-j", jobs.joined(separator: ","), "-o", "JobID,State"]),
              result.status == 0 else { return nil }
        var states: [String: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: "|")
            if fields.count == 2 { states[String(fields[0])] = String(fields[1]) }
        }
        return states.isEmpty ? nil : states
    }

    private func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

func oneLine(_ text: String) -> String {
    text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "; ")
}

/// Cancels the submitted jobs on Ctrl-C (or SIGTERM) and exits 130.
public final class CancelOnInterrupt: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    public init(jobs: [String]) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                _ = try? ExternalCommand.run("scancel", jobs)
                FileHandle.standardError.write(Data("\nperturbot: cancelled Slurm jobs \(jobs.joined(separator: ", "))\n".utf8))
                exit(130)
            }
            source.resume()
            sources.append(source)
        }
    }

    public func disarm() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
