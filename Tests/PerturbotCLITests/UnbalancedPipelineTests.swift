import Foundation
import Reports
import TestSupport
import XCTest

/// Unbalanced maps in a pipeline on a 4i-like file where a drug kills most of one state:
/// `tau_a`/`tau_b` method parameters, `report.mass_by`, the mass table with the data's truth, the
/// saved predictions' `retained_mass`, and the generator's refusals.
final class UnbalancedPipelineTests: XCTestCase {
    func testKilledStateLosesMassAndTheReportShowsIt() throws {
        let folder = try TestPaths.scratchDirectory()
        let data = folder.appendingPathComponent("death.h5ad").path
        let generated = try CLI.run(["generate", "4i-like", "--out", data, "--control-cells", "450", "--cells-per-drug", "240",
                                     "--death", "cisplatin:state1:0.9"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let file = folder.appendingPathComponent("death.yaml").path
        try Data("""
            name: death
            data: { path: death.h5ad, condition_key: drug, control: control }
            drugs: [cisplatin]
            pca: { components: [8] }
            split: { test_fraction: 0.3, seeds: [0, 1] }
            methods:
              balanced: { solver: untuned }
              unbalanced: { solver: eot, tau_a: 0.9, tau_b: 0.9 }
            evaluate: { metrics: [sinkhorn_divergence] }
            report: { out: report, mass_by: cell_state, save_predictions: true }
            """.utf8).write(to: URL(fileURLWithPath: file))
        let run = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = folder.appendingPathComponent("report")
        let rows = try ResultsReport.parseResultsCSV(String(contentsOf: report.appendingPathComponent("results.csv"), encoding: .utf8))
        func mass(_ method: String, _ state: String) -> Double {
            let values = rows.filter { $0.method == method && $0.metric == "retained_mass (cell_state=\(state))" }.map(\.value)
            return values.reduce(0, +) / Double(max(1, values.count))
        }
        XCTAssertEqual(mass("balanced", "state1"), 1, accuracy: 1e-9, "a balanced map keeps every cell")
        XCTAssertLessThan(mass("unbalanced", "state1"), mass("unbalanced", "state2"), "the killed state keeps less mass")
        XCTAssertLessThan(mass("unbalanced", "state1"), mass("unbalanced", "state3"))
        let markdown = try String(contentsOf: report.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("## Retained mass by cell_state (not ranked)"))
        XCTAssertTrue(markdown.contains("| (built into the data) | | 0.1429 | 1.4286 | 1.4286 |"), "factors (0.1, 1, 1) over their mean 0.7")
        XCTAssertTrue(FileManager.default.fileExists(atPath: report.appendingPathComponent("cisplatin_retained_mass.svg").path))
        let inspected = try CLI.run(["inspect", report.appendingPathComponent("predictions/cisplatin_d8.h5ad").path])
        XCTAssertTrue(inspected.stdout.contains("retained_mass"), inspected.stdout)

        try CLI.assertOneLineError(["generate", "4i-like", "--out", folder.appendingPathComponent("x.h5ad").path,
                                    "--death", "cisplatin:state9:0.5"], ["unknown state 'state9'"])
        try CLI.assertOneLineError(["generate", "4i-like", "--out", folder.appendingPathComponent("x.h5ad").path,
                                    "--growth", "cisplatin-state1-2"], ["--growth", "DRUG:STATE:FACTOR"])
        try Data(String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(of: "mass_by: cell_state", with: "mass_by: colour").utf8)
            .write(to: URL(fileURLWithPath: file))
        let refused = try CLI.run(["validate", file])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("report.mass_by: no obs column 'colour'"), refused.stderr)
    }
}
