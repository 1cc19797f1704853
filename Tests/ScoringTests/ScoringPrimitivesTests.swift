import Foundation
import LinearAlgebra
@testable import Scoring
import XCTest

/// The building blocks against worked values (notes/score-metrics-spec.md) and closed forms.
final class ScoringPrimitivesTests: XCTestCase {
    /// x = [0,0,1,2], y = [0,0,0,3]: R₁ = 19, U₁ = 9, tie term 120, σ² = 9.142857, z = 0.165359,
    /// p = 0.868661 (scipy's asymptotic test with continuity and tie corrections).
    func testMannWhitneyMatchesTheWorkedExample() {
        let result = MannWhitneyU.test([0, 0, 1, 2], [0, 0, 0, 3])
        XCTAssertEqual(result.statistic, 9)
        XCTAssertEqual(result.pValue, 0.868661, accuracy: 1e-6)
        // All values equal: no variance, p = 1.
        XCTAssertEqual(MannWhitneyU.test([1, 1], [1, 1, 1]).pValue, 1)
        // Complete separation of 5 and 5 distinct values: U₁ = 0, z = (25 − 12.5 − 0.5)/√(25·11/12).
        let separated = MannWhitneyU.test([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
        let z = (25 - 12.5 - 0.5) / (25.0 * 11 / 12).squareRoot()
        XCTAssertEqual(separated.statistic, 0)
        XCTAssertEqual(separated.pValue, erfc(z / 2.0.squareRoot()), accuracy: 1e-15)
    }

    func testBenjaminiHochbergMatchesScipy() {
        let q = BenjaminiHochberg.adjust([0.01, 0.04, 0.03, 0.5])
        for (value, expected) in zip(q, [0.04, 0.16 / 3, 0.16 / 3, 0.5]) { XCTAssertEqual(value, expected, accuracy: 1e-15) }
        XCTAssertEqual(BenjaminiHochberg.adjust([0.9, 0.8]), [0.9, 0.9])
    }

    /// log1p cells [0, ln 3] against [ln 2, ln 2]: bulks √3 − 1 and 1, log2 FC = −0.4500.
    func testFoldChangeIsOfGeometricMeansInCountSpace() {
        let values = Matrix<Float>(rows: 4, cols: 2) { i, j in
            j == 1 ? 0 : [0, Float(log(3.0)), Float(log(2.0)), Float(log(2.0))][i]
        }
        let data = ExpressionData(values: values, labels: ["p", "p", "c", "c"], genes: ["g", "zero"])
        let table = DifferentialExpression.compute(data, reference: "c", targets: ["p"]).targets[0]
        XCTAssertEqual(table.log2FoldChange[0], log2(3.0.squareRoot() - 1), accuracy: 1e-6)
        XCTAssertEqual(table.log2FoldChange[1], 0, "0/0 is 0")
        XCTAssertEqual(table.pValue[1], 1, "a constant gene")
    }

    /// Real [a…e] against predicted [x, e]: overlap_at_N = 1/5, precision_at_N = 0 (the real list
    /// is cut to the predicted list's length too); [x, a]: precision_at_N = 1/2.
    func testOverlapAndPrecisionCutTheirListsAsCellEvalDoes() {
        let real = [0, 1, 2, 3, 4]
        XCTAssertEqual(DEAgreement.overlap(real: real, predicted: [9, 4], k: nil, precision: false), 0.2)
        XCTAssertEqual(DEAgreement.overlap(real: real, predicted: [9, 4], k: nil, precision: true), 0)
        XCTAssertEqual(DEAgreement.overlap(real: real, predicted: [9, 0], k: nil, precision: true), 0.5)
        XCTAssertEqual(DEAgreement.overlap(real: real, predicted: [0, 1], k: 50, precision: false), 0.4)
        XCTAssertEqual(DEAgreement.overlap(real: [], predicted: [0], k: nil, precision: false), 0)
    }

    /// X = {0, 2}, Y = {1}: cross mean 1, within means 2 (distinct pairs) and 0, so E = 0; with
    /// the diagonal in the within means (cell-eval's form) W_X = 1 and E = 1.
    func testEnergyDistanceConventions() throws {
        let x = try Matrix<Float>(rows: 2, cols: 1, storage: [0, 2]), y = try Matrix<Float>(rows: 1, cols: 1, storage: [1])
        XCTAssertEqual(EnergyDistance.between(x, y), 0, accuracy: 1e-12)
        let stacked = try Matrix<Float>(rows: 3, cols: 1, storage: [0, 2, 1])
        XCTAssertEqual(ArrayMetrics.energyDistanceWithDiagonal(stacked, [0, 1], [2]), 1, accuracy: 1e-12)
    }

    func testRankingSummariesMatchTheirDefinitions() {
        // Scores 0.9 (+), 0.8 (−), 0.7 (+), 0.1 (−): AP = ½·1 + ½·(2/3); AUC = 3/4.
        let labels = [true, false, true, false], scores: [Float] = [0.9, 0.8, 0.7, 0.1]
        XCTAssertEqual(Ranking.averagePrecision(labels: labels, scores: scores), 0.5 + 0.5 * 2 / 3, accuracy: 1e-12)
        XCTAssertEqual(Ranking.rocAUC(labels: labels, scores: scores), 0.75, accuracy: 1e-12)
        // A tie between a positive and a negative counts ½.
        XCTAssertEqual(Ranking.rocAUC(labels: [true, false], scores: [0.5, 0.5]), 0.5)
        XCTAssertTrue(Ranking.rocAUC(labels: [true, true], scores: [0.5, 0.4]).isNaN)
        XCTAssertEqual(Correlation.averageRanks([3, 1, 3, .nan]), [2.5, 1, 2.5, 4])
    }

    /// polars' describe: NaN poisons the mean, not min or max; nearest-rank percentiles.
    func testAggregateFollowsPolarsDescribe() {
        let undefined: Double? = nil
        let table = ScoreTable(perturbations: ["a", "b", "c", "d"], columns: ["m"],
                               values: ["a": ["m": 1], "b": ["m": 2], "c": ["m": .nan], "d": ["m": undefined]])
        let lines = table.aggregateCSV().split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, ["statistic,m", "count,3.0", "null_count,1.0", "mean,NaN", "std,NaN", "min,1.0", "25%,2.0",
                               "50%,2.0", "75%,NaN", "max,2.0"])
    }
}

/// cell-eval's ceiling split: every group drawn 2n times from its own cells.
final class CeilingSplitTests: XCTestCase {
    func testEachGroupIsDrawnTwiceItsSizeFromItsOwnCells() throws {
        let labels = ["c", "a", "c", "b", "a", "c", "c", "b"]
        let values = try Matrix<Float>(rows: 8, cols: 1, storage: (0..<8).map(Float.init))
        let data = ExpressionData(values: values, labels: labels, genes: ["g"])
        let (first, second) = CeilingSplit.split(data, seed: 3)
        for half in [first, second] {
            XCTAssertEqual(half.labels, ["a", "a", "b", "b", "c", "c", "c", "c"], "sorted groups, each of its own size")
            for (row, label) in half.labels.enumerated() {
                XCTAssertEqual(labels[Int(half.values[row, 0])], label, "a draw from its own group")
            }
        }
        let again = CeilingSplit.split(data, seed: 3)
        XCTAssertEqual(again.real.values, first.values)
        XCTAssertEqual(again.predicted.values, second.values)
    }
}
