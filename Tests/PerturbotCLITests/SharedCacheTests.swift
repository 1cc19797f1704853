import Foundation
import TestSupport
import XCTest

/// Many `perturbot run` processes on one cache, and `perturbot run-task`.
final class SharedCacheTests: XCTestCase {
    private func pipeline(in folder: URL) throws -> String {
        try CLI.smallPipeline(in: folder, name: "shared", drugs: ["cisplatin", "sorafenib"], components: [4, 8],
                              methods: ["identity: { solver: identity }", "eot: { solver: eot }", "progot: { solver: progot, steps: 3 }"],
                              controlCells: 160, drugCells: 80, dataSeed: 2)
    }

    private func ranCount(_ output: String) -> Int {
        let line = output.split(separator: "\n").first { $0.contains("task(s) run") } ?? ""
        return line.split(separator: " ").compactMap { Int($0) }.first ?? -1
    }

    /// 4 processes × the same pipeline and cache, twice: every task computed exactly once,
    /// no failures, and the table equals a lone run's byte for byte.
    func testConcurrentRunsComputeEachTaskOnce() throws {
        let reference = try TestPaths.scratchDirectory()
        let referenceFile = try pipeline(in: reference)
        let lone = try CLI.run(["run", referenceFile, "--quiet"])
        XCTAssertEqual(lone.status, 0, lone.stderr)
        let tasks = ranCount(lone.stdout)  // 1 load + 2 pca + 4 splits + 2 × 2 × 2 × (3 × 2 + 1 ceiling)
        XCTAssertEqual(tasks, 63)
        let expected = try Data(contentsOf: reference.appendingPathComponent("reports/shared/table.csv"))

        for round in 0..<2 {
            let folder = try TestPaths.scratchDirectory()
            let file = try pipeline(in: folder)
            let outputs = (0..<4).map { _ in folder.appendingPathComponent("out-\(UUID().uuidString).txt") }
            let processes = try outputs.map { output -> Process in
                _ = FileManager.default.createFile(atPath: output.path, contents: nil)
                let process = Process()
                process.executableURL = URL(fileURLWithPath: CLI.path)
                process.arguments = ["run", file, "--quiet"]
                process.standardOutput = try FileHandle(forWritingTo: output)
                process.standardError = process.standardOutput
                return process
            }
            for process in processes { try process.run() }
            for process in processes { process.waitUntilExit() }
            var ran = 0
            for (process, output) in zip(processes, outputs) {
                let text = try String(contentsOf: output, encoding: .utf8)
                XCTAssertEqual(process.terminationStatus, 0, "round \(round): \(text)")
                ran += ranCount(text)
            }
            XCTAssertEqual(ran, tasks, "round \(round): tasks computed over the 4 processes")
            XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("reports/shared/table.csv")), expected)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(".perturbot-cache").path)
                .filter { $0.hasPrefix(".") && $0 != ".data-digests" }
            XCTAssertEqual(leftovers, [], "locks or temporary folders left behind")
            let reportSiblings = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("reports").path)
            XCTAssertEqual(reportSiblings, ["shared"], "temporary report folders left behind")
        }
    }

    /// run-task runs one task whose inputs are cached, is idempotent, and refuses a task whose
    /// inputs are missing or that is not in the plan.
    func testRunTaskRunsOneTaskAgainstTheCache() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder)
        try CLI.assertOneLineError(["run-task", file, "--task", "solve/cisplatin/d4/seed0/eot"],
                                   ["solve/cisplatin/d4/seed0/eot", "needs", "not in the cache", "--task"])
        try CLI.assertOneLineError(["run-task", file, "--task", "solve/nodrug/d4/seed0/eot"],
                                   ["no task solve/nodrug/d4/seed0/eot", "--dry-run"])
        let chain = ["load", "pca/d4", "split/cisplatin/seed0", "solve/cisplatin/d4/seed0/eot", "evaluate/cisplatin/d4/seed0/eot"]
        for id in chain {
            let result = try CLI.run(["run-task", file, "--task", id, "--quiet"])
            XCTAssertEqual(result.status, 0, "\(id): \(result.stderr)")
            XCTAssertTrue(result.stdout.hasPrefix("ran \(id)"), result.stdout)
        }
        let again = try CLI.run(["run-task", file, "--task", chain[3], "--quiet"])
        XCTAssertEqual(again.stdout, "cached \(chain[3])\n")
        let dry = try CLI.run(["run", file, "--dry-run"])
        let cached = dry.stdout.split(separator: "\n").filter { $0.hasPrefix("cached") }.map { String($0.split(separator: " ").last ?? "") }
        XCTAssertEqual(Set(cached), Set(chain))
    }
}
