import Reports
import XCTest

/// The normalised score against its definition: (unmoved − method) / (unmoved − ceiling) of the
/// half-sample means, and "within noise" when unmoved − ceiling ≤ the ceiling's spread.
final class NormalisedScoreTests: XCTestCase {
    private func row(_ drug: String, _ method: String, _ seed: UInt64, _ metric: String, _ value: Double) -> ResultRow {
        ResultRow(drug: drug, components: 8, method: method, seed: seed, metric: metric, value: value, converged: true, seconds: 0)
    }

    func testNormalisedScoreAndEffectsWithinNoise() throws {
        let half = "m" + ResultsReport.halfSampleSuffix
        var rows: [ResultRow] = []
        for seed: UInt64 in [0, 1] {
            // drug "a": ceiling 2 ± 0.5ish, unmoved 10, the map 4 (half samples); its full-size score 3.
            rows += [row("a", ResultsReport.noiseCeiling, seed, half, seed == 0 ? 1.75 : 2.25),
                     row("a", ResultsReport.unmoved, seed, half, 10), row("a", "map", seed, half, 4), row("a", "map", seed, "m", 3)]
            // drug "b": the unmoved cells are as close as a second sample: within noise.
            rows += [row("b", ResultsReport.noiseCeiling, seed, half, seed == 0 ? 5 : 7),
                     row("b", ResultsReport.unmoved, seed, half, 6.5), row("b", "map", seed, half, 6), row("b", "map", seed, "m", 6)]
        }
        let report = ResultsReport(rows: rows, drugs: ["a", "b"], components: [8], methods: ["map"], metrics: ["m"])
        let a = try XCTUnwrap(report.cell(drug: "a", components: 8, method: "map", metric: "m"))
        XCTAssertEqual(try XCTUnwrap(a.normalised), (10 - 4) / (10 - 2.0), accuracy: 1e-12)
        XCTAssertFalse(a.effectWithinNoise)
        XCTAssertEqual(a.mean, 3, "the ranked tables keep the full-size score")
        let b = try XCTUnwrap(report.cell(drug: "b", components: 8, method: "map", metric: "m"))
        XCTAssertTrue(b.effectWithinNoise)
        XCTAssertNil(b.normalised)
        let table = report.tableCSV().split(separator: "\n").map(String.init)
        XCTAssertEqual(table[0], "drug,method,d_pca,metric,mean,std,seeds,rank,converged,noise_ceiling,normalised,ci_low,ci_high,tied_with_best")
        XCTAssertEqual(table[1], "a,map,8,m,3.0,0.0,2,1.0,true,2.0,0.75,3.0,3.0,true")
        XCTAssertEqual(table[2], "b,map,8,m,6.0,0.0,2,1.0,true,6.0,,6.0,6.0,true")
    }
}
