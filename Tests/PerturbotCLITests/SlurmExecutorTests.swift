import Foundation
import TestSupport
import XCTest

/// `perturbot run --executor slurm`: the scripts it would submit, and a real run through the
/// single-node Slurm that `scripts/slurm/start` brings up (CI does; skipped with the daemons'
/// own reason otherwise).
final class SlurmExecutorTests: XCTestCase {
    private func pipeline(in folder: URL, drugCells: Int = 60) throws -> String {
        try CLI.smallPipeline(in: folder, name: "cluster", drugs: ["cisplatin"], components: [4],
                              methods: ["identity: { solver: identity }", "eot: { solver: eot }"],
                              controlCells: 120, drugCells: drugCells, dataSeed: 4)
    }

    func testDryRunPrintsOneArrayPerStageWithTheResources() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder)
        let dry = try CLI.run(["run", file, "--executor", "slurm", "--dry-run", "--partition", "debug", "--time", "10",
                               "--mem", "2G", "--cpus", "2", "--account", "lab", "--max-jobs", "3"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        let scripts = dry.stdout.components(separatedBy: "#!/bin/bash").dropFirst()
        XCTAssertEqual(scripts.count, 6, dry.stdout)  // load, split, pca, ceiling, solve, evaluate: 1 + 2 + 1 + 2 + 4 + 4 tasks
        XCTAssertTrue(dry.stdout.contains("#SBATCH --array=0-3%3"), dry.stdout)  // 2 seeds × 2 methods solve tasks
        for flag in ["--partition=debug", "--time=10", "--mem=2G", "--cpus-per-task=2", "--account=lab"] {
            XCTAssertTrue(dry.stdout.contains("#SBATCH \(flag)"), flag)
        }
        XCTAssertTrue(dry.stdout.contains("run-task '\(URL(fileURLWithPath: file).standardizedFileURL.path)' \"${arguments[@]}\""), dry.stdout)
        XCTAssertTrue(dry.stdout.contains("first=$((SLURM_ARRAY_TASK_ID * 1 + 1))"), dry.stdout)
        XCTAssertTrue(dry.stdout.hasSuffix("0 cached, 14 to run\n"), dry.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent(".perturbot-slurm").path),
                       "a dry run wrote its scripts")
        try CLI.assertFlagError(["run", file, "--executor", "slurm", "--cpus", "0"], ["--cpus: must be a whole number ≥ 1"], help: "run")
    }

    /// A stage larger than MaxArraySize − 1 elements is cut into several arrays, each element
    /// running --tasks-per-job tasks; MaxArraySize comes from `scontrol show config`.
    func testArraysAreCutAtMaxArraySizeAndElementsGroupTasks() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder)
        let dry = try CLI.run(["run", file, "--executor", "slurm", "--dry-run", "--max-array-size", "2", "--tasks-per-job", "2"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        // load 1, split 2, pca 1, ceiling 2 tasks: one element each; solve and evaluate, 4 tasks: two arrays of one element.
        let headers = dry.stdout.split(separator: "\n").filter { $0.hasPrefix("# ") }.map { String($0.split(separator: "/").last ?? "") }
        XCTAssertEqual(headers, ["load.sbatch: 1 task(s) of stage load", "split.sbatch: 2 task(s) of stage split",
                                 "pca.sbatch: 1 task(s) of stage pca", "ceiling.sbatch: 2 task(s) of stage ceiling",
                                 "solve-0.sbatch: 2 task(s) of stage solve", "solve-1.sbatch: 2 task(s) of stage solve",
                                 "evaluate-0.sbatch: 2 task(s) of stage evaluate", "evaluate-1.sbatch: 2 task(s) of stage evaluate"], dry.stdout)
        XCTAssertFalse(dry.stdout.contains("--array=0-1"), "no array beyond MaxArraySize − 1 = 1 element")
        XCTAssertTrue(dry.stdout.contains("first=$((SLURM_ARRAY_TASK_ID * 2 + 1))"), dry.stdout)
        XCTAssertTrue(dry.stdout.contains("sed -n \"${first},$((first + 1))p\""), dry.stdout)
        try CLI.assertFlagError(["run", file, "--executor", "slurm", "--tasks-per-job", "0"], ["--tasks-per-job: must be a whole number ≥ 1"], help: "run")
        try CLI.assertFlagError(["run", file, "--executor", "slurm", "--max-array-size", "1"], ["--max-array-size: must be a whole number ≥ 2"], help: "run")
    }

    /// Why the Slurm daemons are not usable here, or nil when a node is idle.
    private func slurmUnavailable() throws -> String? {
        if let status = ProcessInfo.processInfo.environment["PERTURBOT_SLURM_STATUS"],
           let text = try? String(contentsOfFile: status, encoding: .utf8), !text.hasPrefix("ok") {
            return "scripts/slurm/start: " + text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sinfo") else { return "Slurm is not installed (no sinfo); CI starts it with scripts/slurm/start" }
        let state = try ProcessRunner.run("/usr/bin/sinfo", ["-h", "-o", "%t"])
        guard state.status == 0, ["idle", "mix", "alloc"].contains(state.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            return "no idle Slurm node (sinfo: \(state.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) \(state.stderr.trimmingCharacters(in: .whitespacesAndNewlines)))"
        }
        return nil
    }

    func testSlurmRunEqualsTheLocalRunByteForByte() throws {
        if let reason = try slurmUnavailable() { throw XCTSkip(reason) }
        let local = try TestPaths.scratchDirectory()
        let localFile = try pipeline(in: local)
        XCTAssertEqual(try CLI.run(["run", localFile, "--quiet"]).status, 0)

        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder)
        // Three tasks per array element: one run-task process runs them in turn.
        let cluster = try CLI.run(["run", file, "--executor", "slurm", "--poll", "0.5", "--quiet", "--tasks-per-job", "3"])
        XCTAssertEqual(cluster.status, 0, cluster.stdout + cluster.stderr)
        XCTAssertTrue(cluster.stdout.hasPrefix("14 task(s) run, 0 reused"), cluster.stdout)  // 12 + 2 ceiling tasks
        for name in ["table.csv", "results.csv"] {
            let expected = try Data(contentsOf: local.appendingPathComponent("reports/cluster/\(name)"))
            let actual = try Data(contentsOf: folder.appendingPathComponent("reports/cluster/\(name)"))
            if name == "table.csv" { XCTAssertEqual(actual, expected, name) }
            // results.csv differs only in its seconds column.
            func cut(_ data: Data) -> [String] {
                String(decoding: data, as: UTF8.self).split(separator: "\n").map { $0.split(separator: ",").dropLast().joined(separator: ",") }
            }
            XCTAssertEqual(cut(actual), cut(expected), name)
        }
        // A second run submits nothing.
        let again = try CLI.run(["run", file, "--executor", "slurm", "--quiet"])
        XCTAssertTrue(again.stdout.hasPrefix("0 task(s) run, 14 reused"), again.stdout)
    }

    /// A failing job is reported with its log; its dependants are cancelled (afterok) and named;
    /// a re-run submits only what is missing.
    func testFailedJobsAreReportedAndARerunSubmitsOnlyWhatIsMissing() throws {
        if let reason = try slurmUnavailable() { throw XCTSkip(reason) }
        let folder = try TestPaths.scratchDirectory()
        // 6 cells per drug: too few to hold any out for tuning eot's ε, so its solve jobs fail.
        let file = try pipeline(in: folder, drugCells: 6)
        let cluster = try CLI.run(["run", file, "--executor", "slurm", "--poll", "0.5", "--quiet"])
        XCTAssertEqual(cluster.status, 1, cluster.stdout)
        let report = try String(contentsOf: folder.appendingPathComponent("reports/cluster/report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("`solve/cisplatin/d4/seed0/eot`: Slurm job"), report)
        XCTAssertTrue(report.contains("tuning epsilon needs at least 1 held-out"), report)
        XCTAssertTrue(report.contains("/logs/solve-"), report)
        XCTAssertTrue(report.contains("`evaluate/cisplatin/d4/seed0/eot`: Slurm job"), report)
        let dry = try CLI.run(["run", file, "--executor", "slurm", "--dry-run"])
        let toRun = dry.stdout.split(separator: "\n").last.map(String.init) ?? ""
        // The 2 failed eot solves and the evaluate array they cancelled (identity's 2 as well:
        // afterok waits on the whole solve array).
        XCTAssertEqual(toRun, "8 cached, 6 to run", dry.stdout)  // the 2 ceiling tasks do not read the failed solves
        XCTAssertFalse(dry.stdout.contains("stage load") || dry.stdout.contains("stage split"), dry.stdout)
    }
}
