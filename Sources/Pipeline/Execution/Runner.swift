import AnnData
import Crypto
import Foundation
import Progress
import Stages

/// What happened to one task in a run.
public struct TaskOutcome: Sendable, Equatable {
    public enum Status: Sendable, Equatable {
        case cached
        case ran
        case failed(String)
        /// Not run because an input failed.
        case skipped(String)
    }

    public let id: String
    public let status: Status
    public let seconds: Double
}

/// Runs an experiment's tasks against its cache: cached tasks are reused, the others run
/// (independent ones in parallel, `jobs` at a time), a failing task is recorded and its
/// dependants are skipped while everything else goes on. The one runner of every experiment.
public struct Runner: Sendable {
    public let experiment: any Experiment
    public let jobs: Int
    public let progress: ProgressLine?
    /// How far the run is, read by an interrupt's message from another thread.
    public let tally = RunTally()

    public init(experiment: any Experiment, jobs: Int, progress: ProgressLine?) {
        self.experiment = experiment
        self.jobs = Swift.max(1, jobs)
        self.progress = progress
    }

    private var cache: TaskCache { experiment.cache }

    /// Which tasks are already in the cache.
    public func cachedTaskIDs() -> Set<String> {
        Set(experiment.tasks.filter { cache.contains($0.key) }.map(\.id))
    }

    public func run() -> [TaskOutcome] {
        let planned = experiment.tasks
        let state = RunState(total: planned.count)
        tally.begin(total: planned.count)
        progress?.begin(taskIDs: planned.map(\.id), workers: jobs)
        // Stages in the order they first appear (every task comes after its inputs); the tasks
        // within one stage are independent of each other.
        var stages: [String] = []
        for task in planned where !stages.contains(task.stage) { stages.append(task.stage) }
        for stage in stages {
            let tasks = planned.filter { $0.stage == stage }
            // First every task this process can claim; then, waiting, those another process
            // sharing the cache was computing.
            let deferred = DeferredTasks()
            for waiting in [false, true] {
                let batch = waiting ? deferred.indices : Array(tasks.indices)
                let queue = TaskQueue(count: batch.count)
                DispatchQueue.concurrentPerform(iterations: Swift.min(jobs, Swift.max(1, batch.count))) { _ in
                    while let position = queue.next() {
                        let task = tasks[batch[position]]
                        guard let outcome = runOne(task, state: state, wait: waiting) else {
                            deferred.add(batch[position])
                            continue
                        }
                        state.record(outcome)
                        tally.record(outcome.status)
                        progress?.finished(task.id, seconds: outcome.status == .ran ? outcome.seconds : nil)
                        progress?.update(done: state.doneCount, total: state.total, current: task.id)
                    }
                }
            }
        }
        progress?.finish()
        return planned.compactMap { state.outcome(of: $0.id) }
    }

    /// Runs exactly one planned task against the cache (what `perturbot run-task` and a cluster
    /// job do): its inputs must be in the cache already; an entry already there is reused; a task
    /// another process is computing is waited for.
    public func runTask(_ id: String) throws -> TaskOutcome {
        let planned = experiment.tasks
        guard let task = planned.first(where: { $0.id == id }) else {
            throw PipelineError.plan("no task \(id) in this pipeline's plan (`perturbot run --dry-run` lists the task ids)")
        }
        for input in task.inputs {
            guard let source = planned.first(where: { $0.id == input }), cache.contains(source.key) else {
                throw PipelineError.cache("task \(id) needs \(input), which is not in the cache \(cache.root.path) (run it first: perturbot run-task … --task \(input))")
            }
        }
        let outcome = runOne(task, state: RunState(total: 1), wait: true)
        progress?.finish()
        guard let outcome else { throw PipelineError.cache("task \(id) was not run") }
        return outcome
    }

    /// The task's outcome, or nil when another process is computing it and `wait` is false.
    private func runOne(_ task: ExperimentTask, state: RunState, wait: Bool) -> TaskOutcome? {
        if let failedInput = task.inputs.first(where: { state.failed($0) }) {
            return TaskOutcome(id: task.id, status: .skipped("input \(failedInput) failed"), seconds: 0)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        do {
            let progress = self.progress
            let computation = try cache.computeOnce(
                task.key, task: task.id, stage: task.stage, wait: wait,
                waiting: { holder in
                    progress?.update(done: state.doneCount, total: state.total,
                                     current: "\(task.id) (computed by \(holder.map(\.description) ?? "another process"); waiting)")
                }
            ) {
                progress?.started(task.id)
                let experiment = self.experiment
                return try TrainingProgress.reporting(to: { progress?.training($0, task: task.id) }) {
                    try experiment.compute(task)
                }
            }
            switch computation {
            case .reused: return TaskOutcome(id: task.id, status: .cached, seconds: 0)
            case .computed: return TaskOutcome(id: task.id, status: .ran, seconds: seconds())
            case .heldElsewhere: return nil
            }
        } catch {
            return TaskOutcome(id: task.id, status: .failed(FileSystemMessage.line(for: error) ?? "\(error)"), seconds: seconds())
        }
    }

    static func fileDigest(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw PipelineError.plan("\(path): cannot read the data file") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 22), !chunk.isEmpty { hasher.update(data: chunk) }
        return hexDigest(hasher.finalize())
    }
}

/// Hands out task indices 0 ..< count to the worker threads, each once.
final class TaskQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var cursor = 0
    private let count: Int

    init(count: Int) { self.count = count }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard cursor < count else { return nil }
        cursor += 1
        return cursor - 1
    }
}

/// Tasks of a stage left for the waiting pass because another process held them.
private final class DeferredTasks: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Int] = []

    func add(_ index: Int) {
        lock.lock()
        list.append(index)
        lock.unlock()
    }

    var indices: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return list.sorted()
    }
}

/// Outcomes so far, shared by the worker threads.
private final class RunState: @unchecked Sendable {
    let total: Int
    private let lock = NSLock()
    private var outcomes: [String: TaskOutcome] = [:]

    init(total: Int) { self.total = total }

    func record(_ outcome: TaskOutcome) {
        lock.lock()
        outcomes[outcome.id] = outcome
        lock.unlock()
    }

    func outcome(of id: String) -> TaskOutcome? {
        lock.lock()
        defer { lock.unlock() }
        return outcomes[id]
    }

    func failed(_ id: String) -> Bool {
        switch outcome(of: id)?.status {
        case .failed?, .skipped?: return true
        default: return false
        }
    }

    var doneCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return outcomes.count
    }
}

/// Tasks done so far (cached, computed, failed or skipped) and computed in this run.
public final class RunTally: @unchecked Sendable {
    private let lock = NSLock()
    private var counts = (done: 0, ran: 0, total: 0)

    public func begin(total: Int) {
        lock.lock()
        counts = (0, 0, total)
        lock.unlock()
    }

    public func record(_ status: TaskOutcome.Status) {
        lock.lock()
        counts.done += 1
        if status == .ran { counts.ran += 1 }
        lock.unlock()
    }

    public var snapshot: (done: Int, ran: Int, total: Int) {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }
}
