import Foundation
@testable import Pipeline
import TestSupport
import XCTest

/// The data file's digest is remembered by (path, size, mtime, inode): reused while the file
/// is unchanged, computed again as soon as it is rewritten, and never stale.
final class DataDigestTests: XCTestCase {
    func testTheMemoIsReusedOnlyForTheUnchangedFile() throws {
        let folder = try TestPaths.scratchDirectory()
        let data = folder.appendingPathComponent("data.bin")
        let cache = TaskCache(root: folder.appendingPathComponent("cache"))
        try Data("first".utf8).write(to: data)
        let first = try DataDigest.of(data.path, cache: cache)
        XCTAssertEqual(first, TaskCache.sha256(Data("first".utf8)))
        let memo = try FileManager.default.contentsOfDirectory(atPath: cache.root.appendingPathComponent(DataDigest.folderName).path)
        XCTAssertEqual(memo.count, 1)
        XCTAssertEqual(try DataDigest.of(data.path, cache: cache), first)
        // Same size, new content: the mtime (or the inode of an atomic rewrite) changes, so it is hashed again.
        Thread.sleep(forTimeInterval: 0.01)
        try Data("other".utf8).write(to: data, options: .atomic)
        XCTAssertEqual(try DataDigest.of(data.path, cache: cache), TaskCache.sha256(Data("other".utf8)))
        // A memo claiming another digest for the file as it is now would be trusted: so it is
        // written only for the file it was computed from, and gc keeps it.
        XCTAssertEqual(try cache.collectGarbage(keeping: []), 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: cache.root.appendingPathComponent(DataDigest.folderName).path))
        XCTAssertEqual(try DataDigest.of(data.path, cache: nil), TaskCache.sha256(Data("other".utf8)), "no cache: hashed each time")
    }
}
