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
    /// Tasks one array element runs, one after the other in one `perturbot run-task` (a
    /// screen's tens of thousands of short tasks: the pipeline is parsed and planned once per
    /// element, not once per task).
    public var tasksPerJob: Int = 1
    /// The cluster's MaxArraySize (array indices run 0 ..< it); nil: read from `scontrol show
    /// config`, Slurm's default 1001 when that cannot be read.
    public var maxArraySize: Int?

    public init() {}

    /// Itself, or the first value out of range, naming its command-line flag.
    public func validated() throws -> SlurmResources {
        if let cpus, cpus < 1 { throw PipelineError.executor("--cpus must be at least 1, got \(cpus)") }
        if let maxJobs, maxJobs < 1 { throw PipelineError.executor("--max-jobs must be at least 1, got \(maxJobs)") }
        guard tasksPerJob >= 1 else { throw PipelineError.executor("--tasks-per-job must be at least 1, got \(tasksPerJob)") }
        if let maxArraySize, maxArraySize < 2 { throw PipelineError.executor("--max-array-size must be at least 2, got \(maxArraySize)") }
        guard poll.isFinite, poll > 0 else { throw PipelineError.executor("--poll must be a positive number of seconds, got \(poll)") }
        for (flag, value) in [("--partition", partition), ("--time", time), ("--mem", mem), ("--account", account)] {
            if let value, value.isEmpty || value.contains(where: { $0.isWhitespace || $0 == "'" }) {
                throw PipelineError.executor("\(flag) must be one word without quotes, got '\(value)'")
            }
        }
        return self
    }
}

/// Runs a pipeline's missing tasks as Slurm jobs: one job array per stage, cut into chunks of
/// at most MaxArraySize − 1 elements (the cluster's, from `scontrol show config`), each element
/// `perturbot run-task` on `tasksPerJob` tasks, each stage's arrays `afterok` on the earlier
/// stages' (with --kill-on-invalid-dep, so a failed input cancels its dependants instead of
/// leaving them pending). The cache is the only channel between jobs, so it must be on a
/// filesystem every node sees.
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
        /// Tasks per array element: element e runs tasks[e·k ..< (e+1)·k].
        public let tasksPerElement: Int

        /// The element that runs `tasks[index]`.
        public func element(ofTask index: Int) -> Int { index / tasksPerElement }
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

    /// Slurm's default MaxArraySize.
    static let defaultMaxArraySize = 1001

    /// The cluster's MaxArraySize: `scontrol show config`'s, or Slurm's default when it cannot
    /// be read (no scontrol, or a line it does not print).
    public static func clusterMaxArraySize() -> Int {
        guard let result = try? ExternalCommand.run("scontrol", ["show", "config"]), result.status == 0 else { return defaultMaxArraySize }
        return maxArraySize(inConfig: result.stdout) ?? defaultMaxArraySize
    }

    /// The `MaxArraySize = N` line of `scontrol show config`'s output.
    static func maxArraySize(inConfig text: String) -> Int? {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, parts[0] == "MaxArraySize", let value = Int(parts[1]) { return value }
        }
        return nil
    }

    /// One or more arrays per stage: each at most MaxArraySize − 1 elements (indices
    /// 0 ..< MaxArraySize − 1, as Slurm's `--array` accepts), each element `tasksPerJob` tasks.
    public func submissions(_ stages: [Stage]) -> [Submission] {
        let elementsPerArray = Swift.max(1, (options.maxArraySize ?? Self.clusterMaxArraySize()) - 1)
        let perElement = options.tasksPerJob
        let chunkSize = elementsPerArray * perElement
        return stages.flatMap { stage -> [Submission] in
            stride(from: 0, to: stage.tasks.count, by: chunkSize).map { start in
                let chunk = Array(stage.tasks[start..<Swift.min(stage.tasks.count, start + chunkSize)])
                let label = stage.tasks.count > chunkSize ? "\(stage.name)-\(start / chunkSize)" : stage.name
                let tasksPath = workFolder.appendingPathComponent("\(label).tasks")
                let logPattern = workFolder.appendingPathComponent("logs/\(label)-%a.log").path
                let elements = (chunk.count + perElement - 1) / perElement
                return Submission(stage: stage.name,
                                  script: script(label, elements: elements, tasksPath: tasksPath, logPattern: logPattern),
                                  scriptPath: workFolder.appendingPathComponent("\(label).sbatch"),
                                  tasksPath: tasksPath, tasks: chunk, logPattern: logPattern, tasksPerElement: perElement)
            }
        }
    }

    func script(_ label: String, elements: Int, tasksPath: URL, logPattern: String) -> String {
        var lines = ["#!/bin/bash", "#SBATCH --job-name=perturbot-\(label)",
                     "#SBATCH --array=0-\(elements - 1)" + (options.maxJobs.map { "%\($0)" } ?? ""),
                     "#SBATCH --output=\(logPattern)"]
        if let partition = options.partition { lines.append("#SBATCH --partition=\(partition)") }
        if let time = options.time { lines.append("#SBATCH --time=\(time)") }
        if let mem = options.mem { lines.append("#SBATCH --mem=\(mem)") }
        if let cpus = options.cpus { lines.append("#SBATCH --cpus-per-task=\(cpus)") }
        if let account = options.account { lines.append("#SBATCH --account=\(account)") }
        let perElement = options.tasksPerJob
        lines += [
            "set -euo pipefail",
            // This element's lines of the task list, each passed as one --task.
            "first=$((SLURM_ARRAY_TASK_ID * \(perElement) + 1))",
            "arguments=()",
            "while IFS= read -r task; do arguments+=(--task \"$task\"); done < <(sed -n \"${first},$((first + \(perElement - 1)))p\" \(quoted(tasksPath.path)))",
            "exec \(quoted(perturbot)) run-task \(quoted(pipelineFile)) \"${arguments[@]}\" --cache \(quoted(cacheRoot.path)) --quiet",
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

/// Text of several lines as one: the non-empty lines, trimmed, joined by "; ".
public func oneLine(_ text: String) -> String {
    text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "; ")
}
