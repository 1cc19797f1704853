import Crypto
import Foundation

/// The SHA-256 of a data file, remembered in the cache folder by (path, size, modification
/// time, inode): a screen's .h5ad is gigabytes, and every `run`, `run-task` (each cluster job)
/// and `validate` would otherwise read it whole to plan. The content hash stays the key (a moved
/// file keeps its keys); the remembered value is reused only while the file's size, mtime (to
/// the nanosecond) and inode are those it was computed for, as make and Snakemake trust mtimes.
/// `cache gc` keeps the memo.
enum DataDigest {
    /// The cache folder's subfolder of remembered digests.
    static let folderName = ".data-digests"

    private struct Memo: Codable {
        let path: String
        let size: Int64
        let modified: Int64
        let inode: UInt64
        let sha256: String
    }

    static func of(_ path: String, cache: TaskCache?) throws -> String {
        guard let cache, let stamp = stamp(path) else { return try Runner.fileDigest(path) }
        let memoURL = cache.root.appendingPathComponent(folderName, isDirectory: true)
            .appendingPathComponent(TaskCache.sha256(Data(path.utf8)) + ".json")
        if let data = try? Data(contentsOf: memoURL), let memo = try? JSONDecoder().decode(Memo.self, from: data),
           memo.path == path, memo.size == stamp.size, memo.modified == stamp.modified, memo.inode == stamp.inode {
            return memo.sha256
        }
        let digest = try Runner.fileDigest(path)
        // Remember it only if the file did not change while it was read; a read-only cache just hashes each time.
        if let after = Self.stamp(path), after == stamp,
           let data = try? JSONEncoder().encode(Memo(path: path, size: stamp.size, modified: stamp.modified, inode: stamp.inode, sha256: digest)) {
            try? FileManager.default.createDirectory(at: memoURL.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? data.write(to: memoURL, options: .atomic)
        }
        return digest
    }

    private static func stamp(_ path: String) -> (size: Int64, modified: Int64, inode: UInt64)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        return (Int64(info.st_size), modified, UInt64(info.st_ino))
    }
}
