import AnnData
import Foundation
import LinearAlgebra
@testable import Scoring
import TestSupport
import XCTest

/// `perturbot etest` against pertpy 1.2.0's `DistanceTest("edistance", n_perms=1000)` on
/// Tests/Fixtures/score/etest.h5ad (10 principal components in obsm X_pca).
final class EnergyTestFixtureTests: XCTestCase {
    func testDistancesAndPermutationPValuesMatchPertpy() throws {
        let folder = TestPaths.repository.appendingPathComponent("Tests/Fixtures/score")
        let data = try AnnDataReader.read(folder.appendingPathComponent("etest.h5ad").path, as: Float.self)
        let points = try XCTUnwrap(data.obsm["X_pca"])
        guard case .categorical(let targets) = try data.obsColumn("target") else { return XCTFail("target is not categorical") }
        let labels = (0..<targets.codes.count).compactMap { targets[$0] }
        let expected = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("etest.json")))
            as? [String: [String: Double]])
        let permutations = 1000
        let rows = EnergyTest.run(points: points, labels: labels, control: "non-targeting", permutations: permutations, seed: 0)
        XCTAssertEqual(Set(rows.map(\.condition)), Set(expected.keys).subtracting(["non-targeting"]))
        for row in rows {
            let reference = try XCTUnwrap(expected[row.condition])
            let distance = try XCTUnwrap(reference["distance"]), p = try XCTUnwrap(reference["pvalue"])
            // pertpy's distances come from float32 points through float32 pairwise distances.
            XCTAssertEqual(row.distance, distance, accuracy: 1e-5 * Swift.max(1, abs(distance)), row.condition)
            // Two Monte-Carlo estimates of one p-value: within 4 standard errors of their difference.
            let spread = 4 * (2 * p * (1 - p) / Double(permutations)).squareRoot() + 2 / Double(permutations)
            XCTAssertEqual(row.pValue, p, accuracy: spread, row.condition)
        }
        // Holm–Šidák over the 4 conditions: the three at the smallest p get 1 − (1 − 1/n)⁴.
        // (pertpy counts the control among the tests too: 1 − (1 − 1/n)⁵ = 0.00499.)
        let smallest = rows.filter { $0.pValue == 1 / Double(permutations) }
        XCTAssertEqual(smallest.count, 3)
        for row in smallest { XCTAssertEqual(row.adjustedPValue, 1 - pow(1 - 0.001, 4), accuracy: 1e-15) }
        // The same seed, the same p-values.
        XCTAssertEqual(rows, EnergyTest.run(points: points, labels: labels, control: "non-targeting", permutations: permutations, seed: 0))
    }

    func testHolmSidakMatchesStatsmodels() {
        // multipletests([0.01, 0.04, 0.03], method="holm-sidak"): 1 − 0.99³, then max with
        // 1 − 0.97², then with 0.04.
        let adjusted = HolmSidak.adjust([0.01, 0.04, 0.03])
        XCTAssertEqual(adjusted[0], 1 - pow(0.99, 3), accuracy: 1e-15)
        XCTAssertEqual(adjusted[2], 1 - pow(0.97, 2), accuracy: 1e-15)
        XCTAssertEqual(adjusted[1], 0.0591, accuracy: 1e-15)
    }
}
