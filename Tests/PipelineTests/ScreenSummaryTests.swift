import Foundation
@testable import Reports
import XCTest

/// A screen's summary computed by hand on three conditions of one context: the conditions'
/// parts, the effect order, the mean rank and the normalised score's median and quartiles.
final class ScreenSummaryTests: XCTestCase {
    private func row(_ drug: String, _ method: String, _ metric: String, _ value: Double) -> ResultRow {
        ResultRow(drug: drug, components: 8, method: method, seed: 0, metric: metric, value: value, converged: true, seconds: 0)
    }

    func testSummaryByHand() throws {
        let half = "m" + ResultsReport.halfSampleSuffix
        // Per condition: unmoved, ceiling, and two methods' metric and half-sample values.
        // a_10: unmoved 10, ceiling 2 (effect 8); good 4 → normalised (10 − 4)/8 = 0.75; poor 9 → 0.125.
        // a_100: unmoved 20, ceiling 4 (effect 16); good 4 → 1.0; poor 12 → 0.5.
        // b_10: unmoved 3, ceiling 2.5 (effect 0.5); good 2.5 → 1.0; poor 3.5 → −1.0.
        let values: [(String, Double, Double, Double, Double)] = [("L/a_10", 10, 2, 4, 9), ("L/a_100", 20, 4, 4, 12), ("L/b_10", 3, 2.5, 2.5, 3.5)]
        var rows: [ResultRow] = []
        for (id, unmoved, ceiling, good, poor) in values {
            rows += [row(id, ResultsReport.unmoved, half, unmoved), row(id, ResultsReport.noiseCeiling, half, ceiling),
                     row(id, "good", "m", good), row(id, "good", half, good), row(id, "poor", "m", poor), row(id, "poor", half, poor)]
        }
        let report = ResultsReport(rows: rows, drugs: values.map(\.0), components: [8], methods: ["good", "poor"], metrics: ["m"])
        let conditions = values.map { ScreenSummary.Condition(id: $0.0, hasContext: true, columns: 2) }
        XCTAssertEqual(conditions.map(\.drug), ["a", "a", "b"])
        XCTAssertEqual(conditions.map(\.dose), [10, 100, 10])
        XCTAssertEqual(conditions.map(\.context), ["L", "L", "L"])
        let summary = ScreenSummary(report: report, conditions: conditions)
        XCTAssertEqual(summary.effect(conditions[1]), 16)
        XCTAssertEqual(summary.strongest(context: "L"), ["a", "b"], "a's strongest dose (16) beats b's (0.5)")
        let byMethod = Dictionary(uniqueKeysWithValues: summary.methodSummaries(context: "L").map { ($0.method, $0) })
        let good = try XCTUnwrap(byMethod["good"]), poor = try XCTUnwrap(byMethod["poor"])
        XCTAssertEqual(good.meanRank, 1)
        XCTAssertEqual(poor.meanRank, 2)
        XCTAssertEqual(good.bestOrTied, 3)
        XCTAssertEqual(good.medianNormalised, 1.0)
        XCTAssertEqual(poor.medianNormalised, 0.125)
        // Quartiles of (−1, 0.125, 0.5), linear as numpy: 25 % = −0.4375, 75 % = 0.3125.
        XCTAssertEqual(try XCTUnwrap(poor.lowerQuartile), -0.4375, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(poor.upperQuartile), 0.3125, accuracy: 1e-12)
        XCTAssertEqual(2256.grouped, "2,256")
        XCTAssertEqual(533_880.grouped, "533,880")
        XCTAssertEqual(12.grouped, "12")
        // The dose-response figure of a: treated vs control at log10 dose 1 and 2.
        let figure = try XCTUnwrap(summary.figures().first { $0.name == "screen_L_a_dose_response.svg" })
        XCTAssertTrue(figure.svg.contains("treated vs control"))
        XCTAssertTrue(summary.markdown(figures: true).contains("| good | 1.00 | 3 of 3 | 1.000 | 0.875 to 1.000 |"), summary.markdown(figures: true))
    }
}
