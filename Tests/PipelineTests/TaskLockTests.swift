import Foundation
@testable import Pipeline
import TestSupport
import XCTest

/// The per-key lock files of the shared cache.
final class TaskLockTests: XCTestCase {
    func testASecondClaimWaitsAndReleaseFreesTheKey() throws {
        let folder = try TestPaths.scratchDirectory()
        guard case .acquired(let lock) = try TaskLock.claim("k", in: folder) else { return XCTFail("first claim refused") }
        guard case .heldElsewhere(let holder) = try TaskLock.claim("k", in: folder) else { return XCTFail("second claim granted") }
        XCTAssertEqual(holder, lock.holder)
        lock.release()
        XCTAssertFalse(FileManager.default.fileExists(atPath: lock.path))
        guard case .acquired(let again) = try TaskLock.claim("k", in: folder) else { return XCTFail("claim after release refused") }
        again.release()
    }

    /// A lock left by a process of this host that has exited is broken at once; one of another
    /// host is broken only once its heartbeat is older than `staleAfter`.
    func testStaleLocksAreBroken() throws {
        let folder = try TestPaths.scratchDirectory()
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.waitUntilExit()
        let dead = TaskLock.Holder(host: TaskLock.hostName, pid: exited.processIdentifier, token: "dead", started: "")
        let path = folder.appendingPathComponent(".lock-a").path
        try JSONEncoder().encode(dead).write(to: URL(fileURLWithPath: path))
        guard case .acquired(let lock) = try TaskLock.claim("a", in: folder) else { return XCTFail("a dead holder's lock was kept") }
        XCTAssertNotEqual(TaskLock.read(path)?.token, "dead")
        lock.release()

        let remote = TaskLock.Holder(host: "elsewhere.example", pid: 1, token: "remote", started: "")
        let remotePath = folder.appendingPathComponent(".lock-b").path
        try JSONEncoder().encode(remote).write(to: URL(fileURLWithPath: remotePath))
        guard case .heldElsewhere = try TaskLock.claim("b", in: folder) else { return XCTFail("a fresh remote lock was broken") }
        var old = [timeval(tv_sec: Int(Date().timeIntervalSince1970 - TaskLock.staleAfter - 5), tv_usec: 0),
                   timeval(tv_sec: Int(Date().timeIntervalSince1970 - TaskLock.staleAfter - 5), tv_usec: 0)]
        XCTAssertEqual(utimes(remotePath, &old), 0)
        guard case .acquired(let taken) = try TaskLock.claim("b", in: folder) else { return XCTFail("an abandoned remote lock was kept") }
        taken.release()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
    }

    /// A store that finds another process's complete entry keeps it instead of failing.
    func testStoreKeepsAnEntryThatLandedFirst() throws {
        let cache = TaskCache(root: try TestPaths.scratchDirectory())
        try cache.store("key", task: "t", stage: "load", files: ["out.json": Data("first".utf8)])
        try cache.store("key", task: "t", stage: "load", files: ["out.json": Data("second".utf8)])
        XCTAssertEqual(try cache.read("key", file: "out.json"), Data("first".utf8))
        // An incomplete folder under the key is replaced.
        let broken = cache.entryURL("other")
        try FileManager.default.createDirectory(at: broken, withIntermediateDirectories: true)
        try Data("junk".utf8).write(to: broken.appendingPathComponent("out.json"))
        try cache.store("other", task: "t", stage: "load", files: ["out.json": Data("good".utf8)])
        XCTAssertEqual(try cache.read("other", file: "out.json"), Data("good".utf8))
    }
}
