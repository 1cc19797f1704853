import Foundation

extension TaskCache {
    /// What `computeOnce` did.
    public enum Computation: Sendable {
        /// The entry was there, or another process finished it while this one waited.
        case reused
        case computed
        /// Another live process is computing it (only when not waiting).
        case heldElsewhere(TaskLock.Holder?)
    }

    /// Makes entry `key` exist, computing it only if neither the cache has it nor another
    /// process is computing it. With `wait`, a key held elsewhere is polled (0.1 s, growing to
    /// 2 s) until its entry appears or its lock is released or goes stale, `waiting` being told
    /// the holder once; without, it returns `.heldElsewhere` at once so the caller can do other
    /// work first. A failure of `compute` releases the lock, so a waiter then tries itself.
    public func computeOnce(
        _ key: String, task: String, stage: String, wait: Bool,
        waiting: (TaskLock.Holder?) -> Void = { _ in },
        compute: () throws -> EntryFiles
    ) throws -> Computation {
        var delay = 0.1
        var told = false
        while true {
            if contains(key) { return .reused }
            switch try TaskLock.claim(key, in: root) {
            case .acquired(let lock):
                defer { lock.release() }
                // The previous holder may have stored the entry just before releasing.
                if contains(key) { return .reused }
                let start = DispatchTime.now().uptimeNanoseconds
                let files = try compute()
                try store(key, task: task, stage: stage, files: files,
                          seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                return .computed
            case .heldElsewhere(let holder):
                guard wait else { return .heldElsewhere(holder) }
                if !told {
                    waiting(holder)
                    told = true
                }
                Thread.sleep(forTimeInterval: delay)
                delay = Swift.min(2, delay * 1.5)
            }
        }
    }
}
