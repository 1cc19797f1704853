import Foundation
import TestSupport
import XCTest

/// `perturbot coupling` end to end on tiny inputs (seconds): the blurred-images set-up, the
/// 4i-like set-up from an .h5ad's labels, the files it writes, and its one-line errors.
final class CouplingCommandTests: XCTestCase {
    /// 30 patterned 3 × 3 "images" with grey levels 0–16, as CSV.
    private func images(in folder: URL) throws -> String {
        let rows = (0..<30).map { i in (0..<9).map { k in String(Double((i * 7 + k * 5) % 17)) }.joined(separator: ",") }
        let path = folder.appendingPathComponent("images.csv").path
        try (rows.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testBlurredImagesWriteTheReportCSVAndChart() throws {
        let scratch = try TestPaths.scratchDirectory()
        let source = try images(in: scratch)
        let out = scratch.appendingPathComponent("coupling").path
        let result = try CLI.run(["coupling", "--source", source, "--blur", "0.5", "--image-shape", "3x3",
                                  "--epsilon-scales", "0.25,1", "--steps", "2,4", "--progot-end-scales", "0.5,tuned",
                                  "--alpha", "lin", "--out", out,
                                  "--title", "tiny blur"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("| progot | K = 4 |"), result.stdout)
        XCTAssertTrue(result.stdout.contains("| progot | K = 4, end ε × 0.5 |"), result.stdout)
        let csv = try String(contentsOfFile: out + "/coupling.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "method,setting,epsilon,cost,entropy,iterations,search_iterations,trace,kl_from_identity,mass,unconverged_runs,seconds")
        XCTAssertEqual(csv.count, 1 + 2 + 1 + 4)
        let traces = csv.dropFirst().map { Double($0.split(separator: ",", omittingEmptySubsequences: false)[7]) }
        XCTAssertTrue(traces.allSatisfy { ($0 ?? -1) >= 0 && ($0 ?? 2) <= 1 + 1e-9 }, "\(traces)")
        let report = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        XCTAssertTrue(report.hasPrefix("# tiny blur"))
        XCTAssertTrue(report.contains("blurred with σ = 0.5 px"))
        XCTAssertTrue(report.contains("Wall time"))
        XCTAssertTrue(report.contains("![cost against entropy](cost_entropy.svg)"))
        let svg = try String(contentsOfFile: out + "/cost_entropy.svg", encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.contains("<polyline") && svg.contains("K=4"))
    }

    func testConditionsOfAnH5adWithThePNormCostAsJSON() throws {
        let data = TestPaths.repository.appendingPathComponent("data/demo-4i.h5ad").path
        let result = try CLI.run(["coupling", "--data", data, "--drug", "cisplatin", "--max-points", "80",
                                  "--cost", "pnorm", "--epsilon-scales", "1", "--no-tuned-epsilon", "--steps", "2", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.compactMap { $0["method"] as? String }, ["sinkhorn", "progot"])
        let statistics = try XCTUnwrap(rows[1]["statistics"] as? [String: Any])
        XCTAssertNotNil(statistics["entropy"] as? Double)
        XCTAssertNil(statistics["trace"] as? Double, "unpaired clouds have no trace")
    }

    func testBadInputIsOneLine() throws {
        let scratch = try TestPaths.scratchDirectory()
        let source = try images(in: scratch)
        try CLI.assertOneLineError(["coupling", "--source", source, "--blur", "1", "--cost", "l3"], ["--cost", "l3"])
        try CLI.assertOneLineError(["coupling", "--source", source, "--blur", "1", "--cost", "pnorm", "--p", "1"], ["p > 1"])
        try CLI.assertOneLineError(["coupling", "--source", source, "--blur", "1", "--image-shape", "4x4"], ["16", "9"])
        try CLI.assertOneLineError(["coupling", "--source", source, "--blur", "1", "--image-shape", "3by3"], ["--image-shape"])
        try CLI.assertOneLineError(["coupling", "--source", source, "--blur", "1", "--steps", "2,x"], ["--steps"])
        try CLI.assertOneLineError(["coupling", "--source", source], ["--target", "--blur"])
        try CLI.assertOneLineError(["coupling", "--source", source, "--blur", "1", "--image-shape", "3x3",
                                    "--progot-end-scales", "0.5,best"], ["--progot-end-scales"])
        let data = TestPaths.repository.appendingPathComponent("data/demo-4i.h5ad").path
        try CLI.assertOneLineError(["coupling", "--data", data, "--drug", "aspirin"], ["aspirin", "drug"])
    }
}
