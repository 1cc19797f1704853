import Foundation
import LinearAlgebra
import TestSupport
@testable import Transport
import XCTest

/// Unbalanced Sinkhorn against OTT-JAX 0.6.0 (and POT 0.9.7's plan masses), float64
/// (scripts/fixtures/make_unbalanced_fixtures.py): τ_a = τ_b ∈ {0.99, 0.95, 0.8} and two
/// one-sided cases, on clouds of unequal size.
final class UnbalancedFixtureTests: XCTestCase {
    private func cloud(_ name: String) throws -> Matrix<Double> {
        try Matrix(TestPaths.numericCSV(TestPaths.otFixtures.appendingPathComponent("unbalanced_\(name).csv")))
    }

    private func cases() throws -> [[String: Any]] {
        let data = try Data(contentsOf: TestPaths.otFixtures.appendingPathComponent("unbalanced_fixtures.json"))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(root["cases"] as? [[String: Any]])
    }

    private func numbers(_ value: Any?) throws -> [Double] {
        try XCTUnwrap(value as? [NSNumber]).map(\.doubleValue)
    }

    private func assertClose(_ actual: [Double], _ expected: [Double], relative: Double, _ what: String) {
        XCTAssertEqual(actual.count, expected.count, what)
        let scale = max(1e-12, expected.map(abs).max() ?? 0)
        for (a, e) in zip(actual, expected) { XCTAssertEqual(a, e, accuracy: relative * scale, what) }
    }

    func testCostMassesPotentialsAndMapMatchOTT() throws {
        let x = try cloud("x"), y = try cloud("y"), query = try cloud("query")
        let all = try cases()
        XCTAssertEqual(all.count, 5)
        for fixture in all {
            let tauA = try XCTUnwrap(fixture["tau_a"] as? Double), tauB = try XCTUnwrap(fixture["tau_b"] as? Double)
            let epsilon = try XCTUnwrap(fixture["epsilon"] as? Double)
            let name = "τ = (\(tauA), \(tauB))"
            let options = SinkhornOptions(epsilon: .fixed(epsilon), threshold: 1e-11, maxIterations: 200_000, tauA: tauA, tauB: tauB)
            for mode in [SinkhornOptions.Mode.dense, .online] {
                var modeOptions = options
                modeOptions.mode = mode
                let result = try Sinkhorn.solve(source: x, target: y, options: modeOptions)
                XCTAssertTrue(result.converged, name)
                let cost = try XCTUnwrap(fixture["reg_ot_cost"] as? Double)
                XCTAssertEqual(result.regOTCost, cost, accuracy: 1e-6 * abs(cost), name)
                let mass = try XCTUnwrap(fixture["plan_mass"] as? Double)
                XCTAssertEqual(try XCTUnwrap(result.planMass), mass, accuracy: 1e-6 * mass, name)
                if tauA < 1 || tauB < 1 {
                    assertClose(try XCTUnwrap(result.rowMass), try numbers(fixture["row_mass"]), relative: 1e-6, "\(name) rows")
                    assertClose(try XCTUnwrap(result.columnMass), try numbers(fixture["column_mass"]), relative: 1e-6, "\(name) columns")
                }
                // OTT's potentials are ours plus ε·log of the weights.
                let f = try numbers(fixture["f"]).map { $0 + epsilon * log(Double(x.rows)) }
                let g = try numbers(fixture["g"]).map { $0 + epsilon * log(Double(y.rows)) }
                assertClose(result.f, f, relative: 1e-6, "\(name) f")
                assertClose(result.g, g, relative: 1e-6, "\(name) g")
                let mapped = try EntropicMap(solution: result, target: y).transport(query)
                let expected = try XCTUnwrap(fixture["transport"] as? [[NSNumber]]).flatMap { $0.map(\.doubleValue) }
                assertClose(mapped.storage, expected, relative: 1e-5, "\(name) map")
            }
            let divergence = try SinkhornDivergence.compute(source: x, target: y, options: options)
            let expected = try XCTUnwrap(fixture["sinkhorn_divergence"] as? Double)
            XCTAssertEqual(divergence.value, expected, accuracy: 1e-6 * abs(expected), "\(name) divergence")
            if let pot = fixture["pot"] as? [String: Any] {
                let result = try Sinkhorn.solve(source: x, target: y, options: options)
                XCTAssertEqual(try XCTUnwrap(result.planMass), try XCTUnwrap(pot["plan_mass"] as? Double), accuracy: 1e-6, "\(name) POT")
                assertClose(try XCTUnwrap(result.rowMass), try numbers(pot["row_mass"]), relative: 1e-5, "\(name) POT rows")
            }
        }
    }

    /// The entropic map's retained mass at the fitted source points is the plan's row mass × n,
    /// and it extends to new points through g (OTT's c-transform).
    func testRetainedMassOfTheEntropicMap() throws {
        let x = try cloud("x"), y = try cloud("y")
        for fixture in try cases() {
            let tauA = try XCTUnwrap(fixture["tau_a"] as? Double), tauB = try XCTUnwrap(fixture["tau_b"] as? Double)
            let options = SinkhornOptions(threshold: 1e-11, maxIterations: 200_000, tauA: tauA, tauB: tauB)
            let estimator = EntropicMapEstimator(epsilon: .choice(.fixed(0.5)), sinkhorn: options)
            var rng = SeededRNG(seed: 0)
            let map = try estimator.fit(source: x, target: y, rng: &rng)
            let retained = try XCTUnwrap(try map.retainedMass(x))
            let expected = try numbers(fixture["row_mass"]).map { $0 * Double(x.rows) }
            if tauA < 1 {
                assertClose(retained, expected, relative: 1e-6, "τ = (\(tauA), \(tauB))")
                // The map round-trips through JSON with its source side.
                let decoded = try JSONDecoder().decode(EntropicMap<Double>.self, from: JSONEncoder().encode(try XCTUnwrap(map as? EntropicMap<Double>)))
                XCTAssertEqual(try decoded.retainedMass(x), retained)
            } else {
                XCTAssertEqual(retained, [Double](repeating: 1, count: x.rows), "a balanced source side keeps every cell")
            }
        }
        // Points near the target's far cluster are fed; points far from every target lose mass.
        let map = try EntropicMapEstimator(epsilon: .choice(.fixed(0.5)), sinkhorn: SinkhornOptions(threshold: 1e-9, tauA: 0.8, tauB: 0.8))
            .fit(source: x, target: y, rng: &rng0)
        let probes = try Matrix<Double>([[3, 3, 3], [-8, -8, -8]])
        let mass = try XCTUnwrap(try map.retainedMass(probes))
        XCTAssertGreaterThan(mass[0], mass[1])
        XCTAssertLessThan(mass[1], 0.5)
    }

    private var rng0 = SeededRNG(seed: 1)

    func testFloatFollowsDoubleAndBadTausAreRefused() throws {
        let x = try cloud("x"), y = try cloud("y")
        let options = SinkhornOptions(epsilon: .fixed(0.5), threshold: 1e-6, maxIterations: 100_000, tauA: 0.9, tauB: 0.9)
        let double = try Sinkhorn.solve(source: x, target: y, options: options)
        let single = try Sinkhorn.solve(source: x.converted(to: Float.self), target: y.converted(to: Float.self), options: options)
        XCTAssertEqual(single.regOTCost, double.regOTCost, accuracy: 1e-4 * abs(double.regOTCost))
        XCTAssertEqual(try XCTUnwrap(single.planMass), try XCTUnwrap(double.planMass), accuracy: 1e-4)
        // A warm start from the solution converges at once.
        let warm = try Sinkhorn.solve(source: x, target: y, options: options,
                                      warmStart: SinkhornPotentials(f: double.f, g: double.g))
        XCTAssertLessThanOrEqual(warm.iterations, 2)
        for (tauA, tauB) in [(0.0, 1.0), (1.0, 1.5), (-0.2, 0.5)] {
            XCTAssertThrowsError(try Sinkhorn.solve(source: x, target: y, options: SinkhornOptions(tauA: tauA, tauB: tauB))) {
                XCTAssertTrue("\($0)".contains("must be in (0, 1]"), "\($0)")
            }
        }
        var anderson = options
        anderson.anderson = SinkhornAnderson(memory: 3)
        XCTAssertThrowsError(try Sinkhorn.solve(source: x, target: y, options: anderson))
        // τ = 1 on one side: that side keeps its hard constraint (the column marginal is b).
        let oneSided = try Sinkhorn.solve(source: x, target: y, options: SinkhornOptions(
            epsilon: .fixed(0.5), threshold: 1e-9, maxIterations: 100_000, tauA: 0.8, tauB: 1))
        for mass in try XCTUnwrap(oneSided.columnMass) { XCTAssertEqual(mass, 1 / Double(y.rows), accuracy: 1e-8) }
    }
}
