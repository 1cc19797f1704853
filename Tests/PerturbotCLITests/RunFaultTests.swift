import Foundation
import TestSupport
import XCTest

/// Faults around a run, each with a clear line and nothing lost: Ctrl-C (locks released,
/// temporaries removed, the count of finished tasks, a rerun resumes), temporaries a killed run
/// left (cleared by the next run while their owner's still live ones stay), and places a run
/// cannot write (a folder without permission, a read-only file system) refused before any task.
final class RunFaultTests: XCTestCase {
    private func pipeline(in folder: URL, methods: String = "{ id: { solver: identity } }") throws -> String {
        let generated = try CLI.run(["generate", "4i-like", "--out", folder.appendingPathComponent("demo.h5ad").path,
                                     "--control-cells", "300", "--cells-per-drug", "150", "--seed", "2"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let file = folder.appendingPathComponent("p.yaml").path
        try Data("""
            name: faults
            data: { path: demo.h5ad, condition_key: drug, control: control }
            drugs: [cisplatin, melphalan]
            pca: { components: [4] }
            split: { test_fraction: 0.25, seeds: [0] }
            methods: \(methods)
            report: { out: report/out }
            """.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    private func cacheNames(_ folder: URL) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(".perturbot-cache").path)) ?? []
    }

    /// Runs the binary with `arguments`, waits (at most a minute) until `ready` holds, stops it
    /// with `stop` (SIGINT as Ctrl-C, or SIGTERM as scancel), and returns its status and stderr.
    private func stopped(_ arguments: [String], when ready: () -> Bool, by stop: (Process) -> Void) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.path)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while !ready(), Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        Thread.sleep(forTimeInterval: 0.5)
        stop(process)
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    func testCtrlCSaysHowFarItGotReleasesLocksAndTheRerunResumes() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder, methods: "{ icnn: { solver: icnn, iterations: 100000 } }")
        // Interrupted inside the first long fit: load, the splits, pca and the ceilings are cached.
        let (status, stderr) = try stopped(["run", file, "--quiet"], when: { cacheNames(folder).filter { $0.count == 64 }.count >= 6 },
                                           by: { $0.interrupt() })
        XCTAssertEqual(status, 130, stderr)
        let lines = stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, stderr)
        XCTAssertTrue(stderr.contains("perturbot: interrupted: 6 of 10 task(s) done (6 computed in this run, cached); rerunning the same command resumes from the cache"), stderr)
        XCTAssertEqual(cacheNames(folder).filter { $0.hasPrefix(".lock-") || $0.hasPrefix(".tmp-") }, [], "locks and temporaries left")
        let rerun = try CLI.run(["run", file, "--dry-run"])
        XCTAssertTrue(rerun.stdout.hasSuffix("6 cached, 4 to run\n"), rerun.stdout)
    }

    /// A cluster job (`run-task`) stopped by scancel's SIGTERM: the same line, locks and
    /// temporaries let go of at once rather than left to the heartbeat.
    func testATerminatedRunTaskLetsGoOfItsLock() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder, methods: "{ icnn: { solver: icnn, iterations: 100000 } }")
        let arguments = ["run-task", file, "--quiet", "--task", "load", "--task", "split/cisplatin/seed0", "--task", "pca/d4",
                         "--task", "solve/cisplatin/d4/seed0/icnn"]
        let (status, stderr) = try stopped(arguments, when: {
            cacheNames(folder).contains { $0.hasPrefix(".lock-") } && cacheNames(folder).filter { $0.count == 64 }.count >= 3
        }, by: { $0.terminate() })  // SIGTERM, as scancel sends
        XCTAssertEqual(status, 130, stderr)
        XCTAssertTrue(stderr.contains("perturbot: interrupted: 3 of 4 task(s) done (3 computed in this run, cached)"), stderr)
        XCTAssertEqual(cacheNames(folder).filter { $0.hasPrefix(".lock-") || $0.hasPrefix(".tmp-") }, [], "locks and temporaries left")
    }

    func testTemporariesOfAGoneProcessAreClearedByTheNextRun() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder)
        let cache = folder.appendingPathComponent(".perturbot-cache")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        // A pid that was and is no more: a process that has exited.
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.waitUntilExit()
        let host = ProcessInfo.processInfo.hostName
        let gone = [".tmp-\(exited.processIdentifier)@\(host)~\(String(repeating: "a", count: 64))-1",
                    ".tmp-\(exited.processIdentifier)@\(host)~scratch-2-features.npy"]
        let live = ".tmp-\(getpid())@\(host)~\(String(repeating: "b", count: 64))-3"  // this test process: alive
        for name in gone + [live] { try FileManager.default.createDirectory(at: cache.appendingPathComponent(name), withIntermediateDirectories: true) }
        let run = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(cacheNames(folder).filter { $0.hasPrefix(".tmp-") }, [live])
    }

    /// `setpriv` to the unprivileged `nobody` when the tests run as root (who may write anywhere),
    /// so that a folder's permissions apply; nil (the test skipped) where that cannot be done.
    private func unprivileged(_ arguments: [String]) throws -> ProcessResult {
        guard geteuid() == 0 else { return try CLI.run(arguments) }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            throw XCTSkip("running as root without setpriv: folder permissions cannot be tested")
        }
        return try ProcessRunner.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", CLI.path] + arguments)
    }

    func testFoldersWithoutPermissionAreRefusedBeforeAnyTask() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder)
        let manager = FileManager.default
        let cache = folder.appendingPathComponent("cache"), report = folder.appendingPathComponent("report")
        for made in [cache, report] { try manager.createDirectory(at: made, withIntermediateDirectories: true) }
        try manager.setAttributes([.posixPermissions: 0o777], ofItemAtPath: folder.path)
        try manager.setAttributes([.posixPermissions: 0o777], ofItemAtPath: cache.path)
        try manager.setAttributes([.posixPermissions: 0o555], ofItemAtPath: report.path)
        defer { try? manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: report.path) }

        let noReport = try unprivileged(["run", file, "--cache", cache.path, "--quiet"])
        XCTAssertEqual(noReport.status, 1, noReport.stderr)
        XCTAssertEqual(noReport.stderr, "perturbot: error: report.out: cannot create \(report.path)/out: \(report.path) is not writable (permission denied)\n")
        XCTAssertEqual(cacheNames(folder), [], "refused before any task")
        XCTAssertEqual(try manager.contentsOfDirectory(atPath: cache.path).filter { $0.count == 64 }, [], "no task ran")

        // A cache that cannot take the tasks it lacks: refused with the count; once it holds them all, it serves.
        try manager.setAttributes([.posixPermissions: 0o777], ofItemAtPath: report.path)
        try manager.setAttributes([.posixPermissions: 0o555], ofItemAtPath: cache.path)
        defer { try? manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: cache.path) }
        let noCache = try unprivileged(["run", file, "--cache", cache.path, "--quiet"])
        XCTAssertEqual(noCache.status, 1, noCache.stderr)
        XCTAssertEqual(noCache.stderr, "perturbot: error: cache \(cache.path): \(cache.path) is not writable (permission denied); 10 task(s) are not cached and could not be stored (give a writable --cache)\n")
        try manager.setAttributes([.posixPermissions: 0o777], ofItemAtPath: cache.path)
        let filled = try CLI.run(["run", file, "--cache", cache.path, "--quiet"])
        XCTAssertEqual(filled.status, 0, filled.stderr)
        try manager.setAttributes([.posixPermissions: 0o555], ofItemAtPath: cache.path)
        let served = try unprivileged(["run", file, "--cache", cache.path, "--quiet"])
        XCTAssertEqual(served.status, 0, served.stderr)
        XCTAssertTrue(served.stdout.hasPrefix("0 task(s) run, 10 reused"), served.stdout)
    }

    /// A read-only file system (the case Foundation reported as `NSCocoaErrorDomain Code=642`):
    /// a read-only tmpfs mounted over the cache in a user and mount namespace of its own.
    func testAReadOnlyFileSystemIsNamed() throws {
        guard (try? ProcessRunner.run("/usr/bin/unshare", ["-rm", "true"]))?.status == 0 else {
            throw XCTSkip("unshare -rm is not permitted here: no read-only mount can be made")
        }
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder)
        let cache = folder.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let result = try ProcessRunner.run("/usr/bin/unshare", ["-rm", "sh", "-c",
            "mount -t tmpfs -o ro none \"$1\" && exec \"$2\" run \"$3\" --cache \"$1\" --quiet", "sh", cache.path, CLI.path, file])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertEqual(result.stderr, "perturbot: error: cache \(cache.path): \(cache.path) is not writable (read-only file system); 10 task(s) are not cached and could not be stored (give a writable --cache)\n")
    }
}
