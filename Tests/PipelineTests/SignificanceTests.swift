import Foundation
import Reports
import XCTest

/// The rank tables' confidence intervals and ties: Student's t against its closed forms, and the
/// paired comparison with the best method over seeds.
final class SignificanceTests: XCTestCase {
    func testStudentTMatchesItsClosedForms() {
        for t in [-7.0, -1.3, 0, 0.4, 1, 2.5, 30] {
            // ν = 1 (Cauchy), 2 and 3 have elementary CDFs.
            XCTAssertEqual(StudentT.cdf(t, degreesOfFreedom: 1), 0.5 + atan(t) / .pi, accuracy: 1e-12)
            XCTAssertEqual(StudentT.cdf(t, degreesOfFreedom: 2), 0.5 + t / (2 * (2 + t * t).squareRoot()), accuracy: 1e-12)
            let u = t / 3.0.squareRoot()
            XCTAssertEqual(StudentT.cdf(t, degreesOfFreedom: 3), 0.5 + (atan(u) + u / (1 + u * u)) / .pi, accuracy: 1e-12)
        }
        for p in [0.6, 0.9, 0.975, 0.995] {
            XCTAssertEqual(StudentT.quantile(p, degreesOfFreedom: 1), tan(.pi * (p - 0.5)), accuracy: 1e-9 * tan(.pi * (p - 0.5)))
            XCTAssertEqual(StudentT.quantile(p, degreesOfFreedom: 2), (2 * p - 1) / (2 * p * (1 - p)).squareRoot(), accuracy: 1e-9)
        }
        // scipy.stats.t.ppf(0.975, [4, 9, 29]); the normal 1.959964 as ν grows.
        XCTAssertEqual(StudentT.quantile(0.975, degreesOfFreedom: 4), 2.7764451051977934, accuracy: 1e-9)
        XCTAssertEqual(StudentT.quantile(0.975, degreesOfFreedom: 9), 2.2621571628540993, accuracy: 1e-9)
        XCTAssertEqual(StudentT.quantile(0.975, degreesOfFreedom: 29), 2.045229642132703, accuracy: 1e-9)
        XCTAssertEqual(StudentT.quantile(0.975, degreesOfFreedom: 1e7), 1.959963984540054, accuracy: 1e-6)
        XCTAssertEqual(StudentT.quantile(0.025, degreesOfFreedom: 4), -2.7764451051977934, accuracy: 1e-9)
    }

    private func rows(_ values: [String: [Double]], metric: String = "m") -> [ResultRow] {
        values.flatMap { method, perSeed in
            perSeed.enumerated().map { seed, value in
                ResultRow(drug: "a", components: 8, method: method, seed: UInt64(seed), metric: metric, value: value,
                          converged: true, seconds: 0)
            }
        }
    }

    /// The seeds move every method together (each seed is one split); pairing removes that: "worse"
    /// is 0.53 behind the best on every seed and is not tied, though its spread over seeds (1.05)
    /// would hide the gap from unpaired intervals; "close" trades places with the best and is tied.
    func testPairedDifferencesDecideTiesWithTheBest() throws {
        let values = ["best": [1.0, 2.0, 3.0], "close": [1.1, 1.9, 3.2], "worse": [1.5, 2.5, 3.6]]
        for higherIsBetter in [false, true] {
            let signed = higherIsBetter ? values.mapValues { $0.map { -$0 } } : values
            let report = ResultsReport(rows: rows(signed), drugs: ["a"], components: [8], methods: ["best", "close", "worse"],
                                       metrics: ["m"], higherIsBetter: higherIsBetter ? ["m"] : [])
            func cell(_ method: String) throws -> AggregateCell {
                try XCTUnwrap(report.cell(drug: "a", components: 8, method: method, metric: "m"))
            }
            XCTAssertEqual(try cell("best").rank, 1)
            XCTAssertEqual(try cell("worse").rank, 3)
            XCTAssertEqual(try cell("best").tiedWithBest, true)
            XCTAssertEqual(try cell("close").tiedWithBest, true)
            XCTAssertEqual(try cell("worse").tiedWithBest, false)
            // mean ± t(0.975, 2)·std/√3 with std = 1 for "best".
            let interval = try XCTUnwrap(try cell("best").confidenceInterval)
            let half = 4.302652729749464 / 3.0.squareRoot()
            XCTAssertEqual(interval.lowerBound, (higherIsBetter ? -2 : 2) - half, accuracy: 1e-9)
            XCTAssertEqual(interval.upperBound, (higherIsBetter ? -2 : 2) + half, accuracy: 1e-9)
            XCTAssertEqual(report.bestOrTied(method: "close", metric: "m").count, 1)
            XCTAssertEqual(report.bestOrTied(method: "worse", metric: "m").count, 0)
        }
    }

    func testOneSeedHasNoIntervalAndNoTie() throws {
        let report = ResultsReport(rows: rows(["best": [1.0], "other": [1.01]]), drugs: ["a"], components: [8],
                                   methods: ["best", "other"], metrics: ["m"])
        let other = try XCTUnwrap(report.cell(drug: "a", components: 8, method: "other", metric: "m"))
        XCTAssertNil(other.confidenceInterval)
        XCTAssertNil(other.tiedWithBest, "one seed cannot tell a tie from a difference")
        XCTAssertTrue(report.tableCSV().hasSuffix("a,other,8,m,1.01,0.0,1,2.0,true,,,,,\n"))
    }
}
