import Foundation
import Progress

/// The progress line on stderr: redrawn in place on a terminal, one plain line per task otherwise.
///
/// A long fit adds its training status (`training`): appended to the task line on a terminal,
/// and otherwise a line of its own at most every `plainTrainingInterval` seconds, so a log shows
/// a fit is alive without one line per step.
///
/// The ETA counts what is left: tasks not started at the mean time their stage's computed tasks
/// took so far (all computed tasks' mean for a stage not yet seen), and tasks in flight at what
/// their own training pace says they still need (else their stage's mean less their time so
/// far), shared over the workers. Reused cache entries take no time and do not count.
public final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private let start = DispatchTime.now().uptimeNanoseconds
    private let interactive: Bool
    private let plainTrainingInterval: Double
    private var taskLine = ""
    private var lastPlainTraining: UInt64 = 0
    private var drawn = false

    private var planned = false
    private var workers = 1
    private var finishedIDs: Set<String> = []
    /// Tasks not finished yet, per stage (in flight included).
    private var unfinishedByStage: [String: Int] = [:]
    private var secondsByStage: [String: (total: Double, count: Int)] = [:]
    private var inFlight: [String: (start: UInt64, status: TrainingStatus?)] = [:]
    private var lastUpdate: (done: Int, total: Int, current: String)?

    public init(interactive: Bool = isatty(STDERR_FILENO) != 0, plainTrainingInterval: Double = 30) {
        self.interactive = interactive
        self.plainTrainingInterval = plainTrainingInterval
    }

    /// The run's task ids (their first path component is the stage) and how many run at once.
    public func begin(taskIDs: [String], workers: Int) {
        lock.lock()
        defer { lock.unlock() }
        planned = true
        unfinishedByStage = [:]
        for id in taskIDs where !finishedIDs.contains(id) { unfinishedByStage[Self.stage(of: id), default: 0] += 1 }
        self.workers = max(1, workers)
    }

    /// Task `id` starts computing (not called for reused entries).
    public func started(_ id: String) {
        lock.lock()
        defer { lock.unlock() }
        inFlight[id] = (DispatchTime.now().uptimeNanoseconds, nil)
    }

    /// Task `id` is done; `seconds` is its compute time, nil when it took none (reused, skipped).
    public func finished(_ id: String, seconds: Double?) {
        lock.lock()
        defer { lock.unlock() }
        if finishedIDs.insert(id).inserted, let left = unfinishedByStage[Self.stage(of: id)] {
            unfinishedByStage[Self.stage(of: id)] = max(0, left - 1)
        }
        inFlight[id] = nil
        if let seconds {
            let stage = Self.stage(of: id)
            let sum = secondsByStage[stage] ?? (0, 0)
            secondsByStage[stage] = (sum.total + seconds, sum.count + 1)
        }
    }

    public func update(done: Int, total: Int, current: String) {
        lock.lock()
        defer { lock.unlock() }
        lastUpdate = (done, total, current)
        taskLine = renderTaskLine()
        write(taskLine)
    }

    /// A fit's status, from `TrainingProgress` (any thread).
    public func training(_ status: TrainingStatus, task: String? = nil) {
        lock.lock()
        defer { lock.unlock() }
        if let task, let running = inFlight[task] { inFlight[task] = (running.start, status) }
        let label = task.map { "\($0): " } ?? ""
        if interactive {
            if lastUpdate != nil { taskLine = renderTaskLine() }
            write((taskLine.isEmpty ? "" : taskLine + "  ·  ") + label + status.summary)
        } else {
            let now = DispatchTime.now().uptimeNanoseconds
            guard status.step == status.steps || Double(now - lastPlainTraining) / 1e9 >= plainTrainingInterval else { return }
            lastPlainTraining = now
            write(label + status.summary + (planned ? String(format: "  (run eta %.0fs)", remainingSeconds()) : ""))
        }
    }

    /// Seconds the run still needs, by the rule in the type's comment (lock held).
    func remainingSeconds() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        let all = secondsByStage.values.reduce((total: 0.0, count: 0)) { ($0.total + $1.total, $0.count + $1.count) }
        let overallMean = all.count > 0 ? all.total / Double(all.count) : 0
        func expected(_ stage: String) -> Double {
            guard let sum = secondsByStage[stage], sum.count > 0 else { return overallMean }
            return sum.total / Double(sum.count)
        }
        var work = 0.0
        var waiting = unfinishedByStage
        for (id, running) in inFlight {
            let stage = Self.stage(of: id)
            waiting[stage] = max(0, (waiting[stage] ?? 0) - 1)
            let elapsed = Double(now - running.start) / 1e9
            work += running.status?.remainingSeconds ?? max(0, expected(stage) - elapsed)
        }
        for (stage, count) in waiting { work += Double(count) * expected(stage) }
        return work / Double(workers)
    }

    private func renderTaskLine() -> String {
        guard let (done, total, current) = lastUpdate else { return taskLine }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let eta = planned ? remainingSeconds() : (done > 0 ? elapsed / Double(done) * Double(total - done) : 0)
        return String(format: "[%d/%d] %@  elapsed %.0fs  eta %.0fs", done, total, current, elapsed, eta)
    }

    private static func stage(of id: String) -> String {
        String(id.prefix { $0 != "/" })
    }

    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        if interactive && drawn { FileHandle.standardError.write(Data("\n".utf8)) }
        drawn = false
    }

    private func write(_ line: String) {
        drawn = true
        FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }
}
