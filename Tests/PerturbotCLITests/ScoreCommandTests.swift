import Foundation
import TestSupport
import XCTest

final class ScoreCommandTests: XCTestCase {
    private let folder = TestPaths.repository.appendingPathComponent("Tests/Fixtures/score")
    private var base: [String] {
        ["score", "--real", folder.appendingPathComponent("real.h5ad").path, "--pred", folder.appendingPathComponent("pred.h5ad").path,
         "--pert-col", "target", "--control-pert", "non-targeting"]
    }

    func testScorePrintsJSONAndWritesCellEvalsFiles() throws {
        let out = try TestPaths.scratchDirectory().appendingPathComponent("scored").path
        let result = try CLI.run(base + ["--json", "--out", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        let scores = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [String: Any]])
        XCTAssertEqual(Set(scores.keys), ["A", "C", "D", "G05"])
        XCTAssertEqual(scores["A"]?["de_nsig_counts_real"] as? Double, 4)
        XCTAssertTrue(scores["D"]?["de_direction_match"] is NSNull, "no real significant gene: undefined")
        for key in ["pearson_delta", "edistance", "sinkhorn_divergence", "mmd", "roc_auc"] {
            XCTAssertNotNil(scores["A"]?[key] as? Double, key)
        }
        for file in ["results.csv", "agg_results.csv", "real_de.csv", "pred_de.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/\(file)"), file)
        }
        let results = try String(contentsOfFile: "\(out)/results.csv", encoding: .utf8)
        XCTAssertTrue(results.hasPrefix("perturbation,overlap_at_N,overlap_at_50,"), results)
        let chosen = try CLI.run(base + ["--metrics", "mse,pearson_delta"])
        XCTAssertEqual(chosen.status, 0, chosen.stderr)
        XCTAssertEqual(chosen.stdout.split(separator: "\n").first, "perturbation,mse,pearson_delta")
    }

    func testCeilingScoresTheRealCellsAgainstABootstrapSecondSample() throws {
        let out = try TestPaths.scratchDirectory().appendingPathComponent("ceiling").path
        let result = try CLI.run(base + ["--json", "--ceiling", "--out", out, "--metrics", "pearson_delta,mse,de_nsig_counts_real"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let both = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [String: [String: Any]]])
        XCTAssertEqual(Set(both.keys), ["results", "ceiling"])
        let ceiling = try XCTUnwrap(both["ceiling"])
        XCTAssertEqual(Set(ceiling.keys), ["A", "C", "D", "G05"])
        for file in ["ceiling_results.csv", "agg_ceiling_results.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/\(file)"), file)
        }
        // Seeded: the same seed gives the same ceiling, another seed another one.
        let again = try CLI.run(base + ["--json", "--ceiling", "--metrics", "pearson_delta,mse,de_nsig_counts_real"])
        XCTAssertEqual(again.stdout, result.stdout)
        let other = try CLI.run(base + ["--json", "--ceiling", "--ceiling-seed", "5", "--metrics", "pearson_delta,mse,de_nsig_counts_real"])
        XCTAssertNotEqual(other.stdout, result.stdout)
    }

    func testBadInputIsOneLine() throws {
        let counts = TestPaths.fixture("dense_int32")
        for (arguments, fragments) in [
            (["--pert-col", "nope"], ["real.h5ad", "nope"]),
            (["--control-pert", "DMSO"], ["real.h5ad", "'DMSO'"]),
            (["--metrics", "mse,accuracy"], ["--metrics", "'accuracy'"]),
        ] {
            try CLI.assertOneLineError(base + arguments, fragments)
        }
        try CLI.assertOneLineError(["score", "--real", counts, "--pred", counts, "--pert-col", "drug", "--control-pert", "control"],
                                   ["dense_int32", "counts"])
        try CLI.assertOneLineError(["score", "--real", "/nonexistent.h5ad", "--pred", counts], ["/nonexistent.h5ad"])
    }

    func testETestPrintsEachConditionWithItsPValues() throws {
        let data = folder.appendingPathComponent("etest.h5ad").path
        let result = try CLI.run(["etest", data, "--condition-key", "target", "--control", "non-targeting",
                                  "--permutations", "200", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [String: Any]])
        XCTAssertEqual(Set(rows.keys), ["A", "C", "D", "G05"])
        XCTAssertEqual(rows["A"]?["significant_adj"] as? Bool, true)
        XCTAssertEqual(rows["D"]?["significant_adj"] as? Bool, false, "D is drawn as the control is")
        try CLI.assertOneLineError(["etest", data, "--condition-key", "target", "--control", "DMSO"], ["etest.h5ad", "'DMSO'"])
        try CLI.assertOneLineError(["etest", data, "--condition-key", "target", "--control", "non-targeting", "--features", "X_umap"],
                                   ["etest.h5ad", "X_umap"])
    }
}
