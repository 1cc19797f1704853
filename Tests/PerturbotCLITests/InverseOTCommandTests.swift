import Foundation
import TestSupport
import XCTest

/// `perturbot generate iot-graph`, `perturbot iot` and an `experiment: inverse_ot` pipeline.
final class InverseOTCommandTests: XCTestCase {
    func testGeneratorAndEstimatorRecoverASmallGraph() throws {
        let folder = try TestPaths.scratchDirectory()
        let pairs = folder.appendingPathComponent("pairs.h5ad").path
        let generated = try CLI.run(["generate", "iot-graph", "--nodes", "5", "--epsilon", "10", "--pairs", "3000",
                                     "--seed", "2", "--out", pairs])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let truth = folder.appendingPathComponent("pairs.A_star.csv").path
        XCTAssertTrue(generated.stdout.contains("3000 pairs (x, y in R^5)") && generated.stdout.contains(truth), generated.stdout)
        XCTAssertEqual(try String(contentsOfFile: truth, encoding: .utf8).split(separator: "\n").first, "3,-1,0,0,-1")
        let inspected = try CLI.run(["inspect", pairs, "--json"])
        XCTAssertTrue(inspected.stdout.contains("\"x\":[3000,5]") && inspected.stdout.contains("\"y\":[3000,5]"), inspected.stdout)

        let out = folder.appendingPathComponent("A.csv").path
        let lambda = 0.7 * (log(3000.0) / 3000).squareRoot()
        let fitted = try CLI.run(["iot", "--pairs", pairs, "--epsilon", "10", "--lambda", String(lambda), "--out", out,
                                  "--truth", truth, "--json"])
        XCTAssertEqual(fitted.status, 0, fitted.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(fitted.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["wrong_positions"] as? Int, 0, fitted.stdout)
        XCTAssertEqual(json["support_size"] as? Int, 15, fitted.stdout)
        XCTAssertEqual(json["converged"] as? Bool, true, fitted.stdout)
        let estimate = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(estimate.count, 5)
        XCTAssertEqual(estimate[0].split(separator: ",").count, 5)

        // The same pairs as CSV columns, x then y.
        let csv = folder.appendingPathComponent("pairs.csv").path
        XCTAssertEqual(try CLI.run(["generate", "iot-graph", "--nodes", "5", "--epsilon", "10", "--pairs", "3000", "--seed", "2",
                                    "--out", csv, "--truth-out", folder.appendingPathComponent("t.csv").path]).status, 0)
        let fromCSV = try CLI.run(["iot", "--pairs", csv, "--x-columns", "1:5", "--y-columns", "6:10", "--epsilon", "10",
                                   "--lambda", String(lambda), "--out", out, "--json"])
        let again = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(fromCSV.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(again["support_size"] as? Int, 15, fromCSV.stdout)
        XCTAssertEqual((again["loss"] as? Double).map { ($0 * 1e9).rounded() }, (json["loss"] as? Double).map { ($0 * 1e9).rounded() })
    }

    func testBadInputIsOneLine() throws {
        let folder = try TestPaths.scratchDirectory()
        let csv = folder.appendingPathComponent("odd.csv").path
        try Data("1,2,3\n4,5,6\n".utf8).write(to: URL(fileURLWithPath: csv))
        let out = folder.appendingPathComponent("A.csv").path
        try CLI.assertOneLineError(["iot", "--pairs", csv, "--epsilon", "1", "--lambda", "0.1", "--out", out],
                                   ["odd.csv: 3 columns cannot be split into x then y halves"])
        try CLI.assertOneLineError(["iot", "--pairs", csv, "--x-columns", "1:2", "--y-columns", "3:4", "--epsilon", "1",
                                    "--lambda", "0.1", "--out", out], ["--y-columns 3:4", "has only 3 columns"])
        try CLI.assertOneLineError(["iot", "--pairs", csv, "--x-columns", "2-1", "--y-columns", "3:3", "--epsilon", "1",
                                    "--lambda", "0.1", "--out", out], ["--x-columns expects FIRST:LAST"])
        try CLI.assertOneLineError(["iot", "--pairs", csv, "--epsilon", "0", "--lambda", "0.1", "--out", out],
                                   ["--epsilon must be a positive number"])
        try CLI.assertOneLineError(["iot", "--pairs", csv, "--epsilon", "-1", "--lambda", "0.1", "--out", out],
                                   ["--epsilon must be a positive number", "-1"])
        try CLI.assertOneLineError(["generate", "iot-graph", "--nodes", "1", "--out", out], ["nodes must be ≥ 2"])
    }

    func testExperimentPipelineRunsCachesAndReports() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = folder.appendingPathComponent("iot.yaml").path
        try Data("""
            name: iot-small
            experiment: inverse_ot
            graph: { kind: circular, nodes: 5, delta: 1 }
            pairs: [200, 3000]
            epsilon: 10
            seeds: [0, 1]
            estimator: { penalty: l1, lambda0: 0.7 }
            report: { out: report, formats: [markdown, csv, svg] }

            """.utf8).write(to: URL(fileURLWithPath: file))
        let validated = try CLI.run(["validate", file])
        XCTAssertEqual(validated.stdout, "\(file): ok — inverse-OT experiment, circular graph (5 nodes) × 2 pair count(s) × 1 ε × 2 seed(s)\n",
                       validated.stderr)
        let dry = try CLI.run(["run", file, "--dry-run"])
        XCTAssertTrue(dry.stdout.hasPrefix("to-run  iot/circular5/n200/eps10/lambda0_0.7/seed0\n"), dry.stdout)
        XCTAssertTrue(dry.stdout.hasSuffix("0 cached, 4 to run\n"), dry.stdout)
        let first = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.hasPrefix("4 task(s) run, 0 reused, 0 failed"), first.stdout)
        let report = folder.appendingPathComponent("report")
        let table = try String(contentsOf: report.appendingPathComponent("table.csv"), encoding: .utf8)
        let rows = table.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        XCTAssertEqual(rows.count, 3, table)
        XCTAssertEqual(rows[2][2], "3000")
        XCTAssertEqual(rows[2][7], "2", "both seeds recover the support exactly at n = 3000: \(table)")
        let markdown = try String(contentsOf: report.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("## ε = 10") && markdown.contains("| 3000 |"), markdown)
        XCTAssertTrue(FileManager.default.fileExists(atPath: report.appendingPathComponent("wrong_positions.svg").path))

        let second = try CLI.run(["run", file, "--quiet"])
        XCTAssertTrue(second.stdout.hasPrefix("0 task(s) run, 4 reused, 0 failed"), second.stdout)
        XCTAssertEqual(try String(contentsOf: report.appendingPathComponent("table.csv"), encoding: .utf8), table)
        let rebuilt = try CLI.run(["report", file])
        XCTAssertEqual(rebuilt.status, 0, rebuilt.stderr)
        let listed = try CLI.run(["cache", "ls", file])
        XCTAssertEqual(listed.stdout.split(separator: "\n").filter { $0.hasPrefix("cached ") }.count, 4, listed.stdout)

        // A changed λ₀ plans new tasks; an unknown key is a located error.
        let text = try String(contentsOfFile: file, encoding: .utf8)
        try Data(text.replacingOccurrences(of: "lambda0: 0.7", with: "lambda0: 0.8").utf8).write(to: URL(fileURLWithPath: file))
        XCTAssertTrue(try CLI.run(["run", file, "--dry-run"]).stdout.hasSuffix("0 cached, 4 to run\n"))
        // A skipped cell is planned out, and the report says so.
        try Data((text + "skip:\n  - { pairs: 200, epsilon: 10 }\n").utf8).write(to: URL(fileURLWithPath: file))
        XCTAssertTrue(try CLI.run(["run", file, "--dry-run"]).stdout.hasSuffix("2 cached, 0 to run\n"))
        XCTAssertEqual(try CLI.run(["report", file]).status, 0)
        let skippedReport = try String(contentsOf: report.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(skippedReport.contains("| 0.7 | 200 | — | skipped (the pipeline file's skip list)"), skippedReport)
        try Data(text.replacingOccurrences(of: "lambda0: 0.7", with: "lamda0: 0.7").utf8).write(to: URL(fileURLWithPath: file))
        try CLI.assertOneLineError(["validate", file], ["\(file):7:27: estimator: unknown key 'lamda0'"])
    }
}
