import Foundation
import LinearAlgebra
import TestSupport
import Transport
import XCTest

/// Values from OTT-JAX 0.6.0 and POT 0.9.7 in float64 (scripts/fixtures/make_ot_fixtures.py).
final class ReferenceFixtureTests: XCTestCase {
    private struct Case {
        let name: String
        let x: Matrix<Double>
        let y: Matrix<Double>
        let query: Matrix<Double>
        let values: [String: Any]

        func number(_ key: String) throws -> Double {
            try XCTUnwrap((values[key] as? NSNumber)?.doubleValue, "\(name): \(key)")
        }
    }

    private func cases() throws -> [Case] {
        let data = try Data(contentsOf: TestPaths.otFixtures.appendingPathComponent("ot_fixtures.json"))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let all = try XCTUnwrap(root["cases"] as? [String: [String: Any]])
        XCTAssertEqual(Set(all.keys), ["small", "medium", "small_eps", "d16"])
        return try all.keys.sorted().map { name in
            let values = try XCTUnwrap(all[name])
            let files = try XCTUnwrap(values["files"] as? [String: String])
            func cloud(_ key: String) throws -> Matrix<Double> {
                try Matrix(TestPaths.numericCSV(TestPaths.otFixtures.appendingPathComponent(try XCTUnwrap(files[key]))))
            }
            return Case(name: name, x: try cloud("x"), y: try cloud("y"), query: try cloud("query"), values: values)
        }
    }

    private func options(_ epsilon: Double) -> SinkhornOptions {
        SinkhornOptions(epsilon: .fixed(epsilon), threshold: 1e-10, maxIterations: 200_000)
    }

    func testRegularisedCostTransportCostAndMapMatchOTTAndPOT() throws {
        for fixture in try cases() {
            let epsilon = try fixture.number("epsilon")
            let result = try Sinkhorn.solve(source: fixture.x, target: fixture.y, options: options(epsilon))
            XCTAssertTrue(result.converged, fixture.name)
            let regOTCost = try fixture.number("reg_ot_cost")
            XCTAssertEqual(result.regOTCost, regOTCost, accuracy: 1e-8 * abs(regOTCost), fixture.name)

            // ⟨C, P⟩ from our potentials against POT's plan.
            let cost = squaredEuclideanCostMatrix(fixture.x, fixture.y)
            let n = fixture.x.rows, m = fixture.y.rows
            var transportCost = 0.0
            for i in 0..<n {
                for j in 0..<m {
                    transportCost += cost[i, j] * exp((result.f[i] + result.g[j] - cost[i, j]) / epsilon) / Double(n * m)
                }
            }
            let potCost = try fixture.number("transport_cost_pot")
            XCTAssertEqual(transportCost, potCost, accuracy: 1e-7 * abs(potCost), fixture.name)

            let mapped = try EntropicMap(solution: result, target: fixture.y).transport(fixture.query)
            let reference = try XCTUnwrap(fixture.values["query_mapped"] as? [[Double]])
            XCTAssertLessThan(mapped.maxAbsDifference(try Matrix(reference)), 1e-7, fixture.name)
        }
    }

    func testDivergenceMatchesOTT() throws {
        for fixture in try cases() {
            let divergence = try SinkhornDivergence.compute(
                source: fixture.x, target: fixture.y, options: options(try fixture.number("epsilon")))
            XCTAssertTrue(divergence.converged, fixture.name)
            let reference = try fixture.number("sinkhorn_divergence")
            XCTAssertEqual(divergence.value, reference, accuracy: 1e-7 * abs(reference), fixture.name)
        }
    }

    func testDefaultEpsilonMatchesOTT() throws {
        for fixture in try cases() {
            let result = try Sinkhorn.solve(source: fixture.x, target: fixture.y,
                                            options: SinkhornOptions(epsilon: .auto, maxIterations: 1))
            let reference = try fixture.number("epsilon_default")
            XCTAssertEqual(result.epsilon, reference, accuracy: 1e-12 * reference, fixture.name)
        }
    }
}
