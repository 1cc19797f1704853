import Crypto
import Foundation

/// The content-addressed task cache (shared/DESIGN.md): one directory per task key holding the
/// task's output files and a `manifest.json` written last. An entry without a valid manifest,
/// or whose files do not match it, does not exist.
///
/// Entries are assembled in a temporary sibling directory and renamed into place, so a process
/// killed at any moment leaves either a whole entry or none (plus, at worst, a stale temporary
/// directory that `collectGarbage` removes). Many processes may share one cache (a cluster's
/// jobs on a shared filesystem): a store that finds another process's complete entry keeps it,
/// and `computeOnce` claims a key with a `TaskLock` so that the others wait instead of
/// computing it again. Only renames within the cache folder are relied on, which NFS keeps atomic.
public struct TaskCache: Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    /// What `manifest.json` records.
    public struct Manifest: Codable, Equatable, Sendable {
        public let key: String
        public let task: String
        public let stage: String
        public let created: String
        /// File name → SHA-256 of its bytes.
        public let files: [String: String]
        /// File name → size in bytes; nil in entries written before sizes were recorded.
        public var sizes: [String: Int]? = nil
        /// How long the task took to compute, in seconds (nil in older entries, and in entries
        /// stored without a timing): what a screen's benchmark sums per stage.
        public var seconds: Double? = nil
    }

    public func entryURL(_ key: String) -> URL { root.appendingPathComponent(key, isDirectory: true) }

    /// The entry's manifest when the entry is complete: every file present, of the recorded
    /// size. Entries written before sizes were recorded are checked by their digests instead.
    /// (A file's digest is checked whenever `read` reads it whole.)
    public func manifest(_ key: String) -> Manifest? {
        let folder = entryURL(key)
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("manifest.json")),
              let manifest = try? JSONDecoder().decode(Manifest.self, from: data), manifest.key == key else { return nil }
        for (name, digest) in manifest.files {
            let path = folder.appendingPathComponent(name).path
            if let size = manifest.sizes?[name] {
                guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                      (attributes[.size] as? NSNumber)?.intValue == size else { return nil }
            } else {
                guard let bytes = try? Data(contentsOf: URL(fileURLWithPath: path)), Self.sha256(bytes) == digest else { return nil }
            }
        }
        return manifest
    }

    public func contains(_ key: String) -> Bool { manifest(key) != nil }

    /// One output file of a complete entry, its digest checked.
    public func read(_ key: String, file name: String) throws -> Data {
        guard let manifest = manifest(key), let digest = manifest.files[name] else {
            throw PipelineError.cache("no complete cache entry \(key) with file \(name)")
        }
        let bytes = try Data(contentsOf: entryURL(key).appendingPathComponent(name))
        guard Self.sha256(bytes) == digest else {
            throw PipelineError.cache("cache entry \(key): \(name) does not match its digest (damaged); `perturbot cache gc` removes the entry")
        }
        return bytes
    }

    /// One output file of a complete entry, memory-mapped and not digest-checked (its size is),
    /// for a task that reads a few rows of a large matrix (`MatrixFile.rows`).
    public func mapped(_ key: String, file name: String) throws -> Data {
        guard let manifest = manifest(key), manifest.files[name] != nil else {
            throw PipelineError.cache("no complete cache entry \(key) with file \(name)")
        }
        return try Data(contentsOf: entryURL(key).appendingPathComponent(name), options: .alwaysMapped)
    }

    /// Stores a task's outputs as entry `key` (replacing an incomplete one).
    public func store(_ key: String, task: String, stage: String, files: [String: Data]) throws {
        try store(key, task: task, stage: stage, files: EntryFiles(files))
    }

    /// A path in the cache folder where a task may write a large output file itself
    /// (`EntryFiles.prepared`), to be moved into its entry by `store`; a `.tmp-` name, so a
    /// file a failed task leaves is removed by `cache gc`.
    public func scratchFile(_ name: String) throws -> URL {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return root.appendingPathComponent(Self.temporaryName("scratch-\(UUID().uuidString)-\(name)"))
    }

    /// Stores a task's outputs as entry `key` (replacing an incomplete one): the bytes written,
    /// the prepared files moved in (renamed, not copied), each file's digest and size recorded.
    public func store(_ key: String, task: String, stage: String, files: EntryFiles, seconds: Double? = nil) throws {
        let manager = FileManager.default
        try manager.createDirectory(at: root, withIntermediateDirectories: true)
        let temporary = root.appendingPathComponent(Self.temporaryName("\(key)-\(UUID().uuidString)"))
        try manager.createDirectory(at: temporary, withIntermediateDirectories: true)
        do {
            var digests = files.bytes.mapValues(Self.sha256), sizes = files.bytes.mapValues(\.count)
            for (name, data) in files.bytes { try data.write(to: temporary.appendingPathComponent(name)) }
            for (name, url) in files.prepared {
                let target = temporary.appendingPathComponent(name)
                guard rename(url.path, target.path) == 0 else {
                    throw PipelineError.cache("cannot move \(url.path) into the cache entry: \(String(cString: strerror(errno)))")
                }
                (digests[name], sizes[name]) = try Self.sha256(fileAt: target)
            }
            var manifest = Manifest(key: key, task: task, stage: stage, created: ISO8601DateFormatter().string(from: Date()),
                                    files: digests)
            manifest.sizes = sizes
            manifest.seconds = seconds
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            try encoder.encode(manifest).write(to: temporary.appendingPathComponent("manifest.json"))
            let target = entryURL(key)
            if contains(key) {  // another process finished the same task first
                try? manager.removeItem(at: temporary)
                return
            }
            if rename(temporary.path, target.path) == 0 { return }
            var failure = errno
            if failure == ENOTEMPTY || failure == EEXIST {
                // Another process's entry landed between the check and the rename: keep it.
                if contains(key) {
                    try? manager.removeItem(at: temporary)
                    return
                }
                // An incomplete entry (a damaged copy or an old format): move it aside in one
                // rename, so that a racer never sees a half-removed folder, then try again.
                let aside = root.appendingPathComponent(".tmp-stale-\(key)-\(UUID().uuidString)")
                if rename(target.path, aside.path) == 0 { try? manager.removeItem(at: aside) }
                if rename(temporary.path, target.path) == 0 { return }
                failure = errno
                if contains(key) {
                    try? manager.removeItem(at: temporary)
                    return
                }
            }
            throw PipelineError.cache("cannot move cache entry into \(target.path): \(String(cString: strerror(failure)))")
        } catch {
            try? manager.removeItem(at: temporary)
            for url in files.prepared.values { try? manager.removeItem(at: url) }
            throw error
        }
    }

    /// A file's SHA-256 and size, read in blocks.
    static func sha256(fileAt url: URL) throws -> (String, Int) {
        guard let handle = FileHandle(forReadingAtPath: url.path) else { throw PipelineError.cache("cannot read \(url.path)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        var size = 0
        while let chunk = try handle.read(upToCount: 1 << 22), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += chunk.count
        }
        return (hexDigest(hasher.finalize()), size)
    }

    /// Entries (complete or not) and stale temporary directories.
    public func listing() -> [(key: String, manifest: Manifest?)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { ($0, manifest($0)) }
    }

    /// Removes every entry not in `keep`, incomplete entries and temporary directories;
    /// returns how many were removed.
    @discardableResult
    public func collectGarbage(keeping keep: Set<String>) throws -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        var removed = 0
        // The data files' remembered digests (`DataDigest`) are no entry and stay.
        for name in names where name != DataDigest.folderName && (name.hasPrefix(".tmp-") || !keep.contains(name) || !contains(name)) {
            // A task another process is computing now keeps its lock.
            if name.hasPrefix(".lock-") {
                let path = root.appendingPathComponent(name).path
                guard TaskLock.isStale(path, TaskLock.read(path)) else { continue }
            }
            try FileManager.default.removeItem(at: root.appendingPathComponent(name))
            removed += 1
        }
        return removed
    }

    /// `.tmp-<pid>@<host>~<what>`: a temporary file or folder that names its owner, so that a
    /// later run can tell one whose owner is gone (`removeStaleTemporaries`).
    static func temporaryName(_ what: String) -> String { ".tmp-\(getpid())@\(TaskLock.hostName)~\(what)" }

    /// The owner a temporary's name records (nil for other names, and for the older names
    /// without one).
    static func owner(ofTemporary name: String) -> (pid: Int32, host: String)? {
        guard name.hasPrefix(".tmp-"), let at = name.firstIndex(of: "@"), let tilde = name[at...].firstIndex(of: "~"),
              let pid = Int32(name[name.index(name.startIndex, offsetBy: 5)..<at]) else { return nil }
        return (pid, String(name[name.index(after: at)..<tilde]))
    }

    /// Removes this process's temporaries (an interrupted run's tasks in flight).
    public func removeTemporaries(ofProcess pid: Int32) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [] {
            guard let owner = Self.owner(ofTemporary: name), owner.pid == pid, owner.host == TaskLock.hostName else { continue }
            try? FileManager.default.removeItem(at: root.appendingPathComponent(name))
        }
    }

    /// Removes the temporaries a killed run left (a run that cannot finish a task leaves none):
    /// those of a process of this host that no longer exists; those of another host's process
    /// untouched for `TaskLock.staleAfter` while that process holds no live lock in this cache
    /// (its heartbeat says whether it is alive); and, of the older unowned names, those untouched
    /// for an hour. Returns how many were removed.
    @discardableResult
    public func removeStaleTemporaries() -> Int {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).filter { $0.hasPrefix(".tmp-") }
        guard !names.isEmpty else { return 0 }
        let live = TaskLock.liveHolders(in: root)
        var removed = 0
        for name in names {
            let url = root.appendingPathComponent(name)
            var info = stat()
            guard stat(url.path, &info) == 0 else { continue }
            let age = Date().timeIntervalSince1970 - Double(info.st_mtim.tv_sec)
            let stale: Bool
            if let owner = Self.owner(ofTemporary: name) {
                if owner.host == TaskLock.hostName {
                    stale = owner.pid != getpid() && kill(owner.pid, 0) != 0 && errno == ESRCH
                } else {
                    stale = age > TaskLock.staleAfter && !live.contains("\(owner.host):\(owner.pid)")
                }
            } else {
                stale = age > 3_600
            }
            if stale, (try? FileManager.default.removeItem(at: url)) != nil { removed += 1 }
        }
        return removed
    }

    static func sha256(_ data: Data) -> String {
        hexDigest(SHA256.hash(data: data))
    }
}

/// Failures of the pipeline machinery itself (not of a stage).
public enum PipelineError: Error, Equatable, CustomStringConvertible {
    case cache(String)
    case plan(String)
    /// An executor's tooling (sbatch, squeue, …) failed or is missing.
    case executor(String)

    public var description: String {
        switch self {
        case .cache(let message), .plan(let message), .executor(let message): return message
        }
    }
}

/// Lower-case hex of a SHA-256 digest: the cache keys, file digests and manifest entries.
func hexDigest(_ digest: SHA256.Digest) -> String {
    digest.map { String(format: "%02x", $0) }.joined()
}

/// A task's output files: small ones as bytes, large ones already written to
/// `TaskCache.scratchFile` paths (a screen's loaded matrix is never copied into memory twice).
public struct EntryFiles: Sendable {
    public var bytes: [String: Data]
    public var prepared: [String: URL]

    public init(_ bytes: [String: Data] = [:], prepared: [String: URL] = [:]) {
        self.bytes = bytes
        self.prepared = prepared
    }
}
