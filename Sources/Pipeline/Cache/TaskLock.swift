import Foundation

/// A claim on one cache key while a process computes its task, so that other processes sharing
/// the cache wait for the entry instead of computing it again.
///
/// The lock is a file `.lock-<key>` in the cache root, created with O_CREAT | O_EXCL (atomic on
/// local filesystems and on NFS v3 and later; no flock, which NFS clients do not always honour)
/// and holding the holder's host, pid and a random token. The holder refreshes the file's
/// modification time every `heartbeat` seconds. A lock is stale when its holder is a process
/// on this host that no longer exists, or when its heartbeat is older than `staleAfter`
/// (another host, or a holder stopped with SIGSTOP). A stale lock is broken by renaming it to a
/// unique name and re-reading it: only the process whose rename moved the stale holder's file
/// removes it, and a fresh lock moved by mistake is put back with link(2).
///
/// Locks only spare duplicate work; correctness does not rest on them: `TaskCache.store` keeps
/// whichever complete entry reached the cache first, and two computations of one key are equal
/// by construction (same inputs, same code, same seeds).
public final class TaskLock: @unchecked Sendable {
    /// Who holds a lock.
    public struct Holder: Codable, Equatable, Sendable, CustomStringConvertible {
        public let host: String
        public let pid: Int32
        public let token: String
        public let started: String

        public var description: String { "\(host):\(pid)" }
    }

    public enum Claim: Sendable {
        case acquired(TaskLock)
        /// Held by a live process elsewhere (nil when its file could not be read).
        case heldElsewhere(Holder?)
    }

    public let path: String
    public let holder: Holder
    private let heartbeatTimer: DispatchSourceTimer
    private let lock = NSLock()
    private var released = false

    /// Heartbeat period and the age after which a lock of another host is considered abandoned.
    public static let heartbeat: Double = 5
    public static let staleAfter: Double = 60

    private init(path: String, holder: Holder) {
        self.path = path
        self.holder = holder
        heartbeatTimer = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
        heartbeatTimer.schedule(deadline: .now() + TaskLock.heartbeat, repeating: TaskLock.heartbeat)
        heartbeatTimer.setEventHandler { [path] in _ = utimes(path, nil) }
        heartbeatTimer.resume()
    }

    deinit { release() }

    /// Tries once to claim `key` in `directory`, breaking a stale lock on the way.
    public static func claim(_ key: String, in directory: URL) throws -> Claim {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent(".lock-\(key)").path
        for _ in 0..<3 {
            let holder = Holder(host: hostName, pid: getpid(), token: UUID().uuidString,
                                started: ISO8601DateFormatter().string(from: Date()))
            if try create(path, holder) {
                let lock = TaskLock(path: path, holder: holder)
                held.add(lock)
                return .acquired(lock)
            }
            let current = read(path)
            guard isStale(path, current) else { return .heldElsewhere(current) }
            breakStale(path, expected: current)
        }
        return .heldElsewhere(read(path))
    }

    /// Removes the lock file if it is still this holder's.
    public func release() {
        lock.lock()
        defer { lock.unlock() }
        guard !released else { return }
        released = true
        heartbeatTimer.cancel()
        if TaskLock.read(path)?.token == holder.token { unlink(path) }
        TaskLock.held.remove(path)
    }

    /// The locks this process holds, for `releaseAllHeld`.
    private static let held = HeldLocks()

    /// Releases every lock this process holds (an interrupted run, about to exit).
    public static func releaseAllHeld() {
        for lock in held.all { lock.release() }
    }

    /// `host:pid` of every holder whose lock in `directory` has a live heartbeat.
    static func liveHolders(in directory: URL) -> Set<String> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var holders = Set<String>()
        for name in names where name.hasPrefix(".lock-") {
            let path = directory.appendingPathComponent(name).path
            if let holder = read(path), !isStale(path, holder) { holders.insert(holder.description) }
        }
        return holders
    }

    static let hostName: String = ProcessInfo.processInfo.hostName

    /// Writes a new lock file; false when one exists.
    private static func create(_ path: String, _ holder: Holder) throws -> Bool {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        if descriptor < 0 {
            if errno == EEXIST { return false }
            throw PipelineError.cache("cannot create the lock \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let data = (try? JSONEncoder().encode(holder)) ?? Data()
        _ = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        return true
    }

    static func read(_ path: String) -> Holder? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(Holder.self, from: data)
    }

    /// Stale: a dead process of this host, or no heartbeat for `staleAfter` seconds. A lock file
    /// that cannot be parsed (its holder still writing it) is judged by its age alone.
    static func isStale(_ path: String, _ holder: Holder?) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }  // gone: not stale, just retry
        if let holder, holder.host == hostName, kill(holder.pid, 0) != 0, errno == ESRCH { return true }
        let age = Date().timeIntervalSince1970 - (Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
        return age > staleAfter
    }

    private static func breakStale(_ path: String, expected: Holder?) {
        let aside = path + ".broken-\(UUID().uuidString)"
        guard rename(path, aside) == 0 else { return }  // someone else broke it first
        if read(aside)?.token != expected?.token, expected != nil {
            _ = link(aside, path)  // a fresh lock replaced the stale one in between: put it back
        }
        unlink(aside)
    }
}

/// The locks a process holds, by path; weakly, so a lock let go of is still released by its
/// deinit.
private final class HeldLocks: @unchecked Sendable {
    private struct Weak { weak var lock: TaskLock? }
    private let lock = NSLock()
    private var locks: [String: Weak] = [:]

    func add(_ taskLock: TaskLock) {
        lock.lock()
        locks[taskLock.path] = Weak(lock: taskLock)
        lock.unlock()
    }

    func remove(_ path: String) {
        lock.lock()
        locks[path] = nil
        lock.unlock()
    }

    var all: [TaskLock] {
        lock.lock()
        defer { lock.unlock() }
        return locks.values.compactMap(\.lock)
    }
}
