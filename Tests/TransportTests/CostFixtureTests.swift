import Foundation
import LinearAlgebra
import TestSupport
import Transport
import XCTest

/// Sinkhorn, the entropic map and the coupling statistics on OTT-JAX 0.6.0's `PNormP` cost
/// (scripts/fixtures/make_cost_fixtures.py): default ε, reg_ot_cost, the plan's cost, entropy,
/// trace and KL from the identity, and transported points.
final class CostFixtureTests: XCTestCase {
    func testPNormCasesMatchOTT() throws {
        let data = try Data(contentsOf: TestPaths.otFixtures.appendingPathComponent("cost_fixtures.json"))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [String: [String: Any]])
        XCTAssertEqual(Set(cases.keys), ["pnorm", "pnorm_paired", "pnorm_p3"])
        for (name, values) in cases.sorted(by: { $0.key < $1.key }) {
            func number(_ key: String) throws -> Double { try XCTUnwrap((values[key] as? NSNumber)?.doubleValue, "\(name): \(key)") }
            let files = try XCTUnwrap(values["files"] as? [String: String])
            func cloud(_ key: String) throws -> Matrix<Double> {
                try Matrix(TestPaths.numericCSV(TestPaths.otFixtures.appendingPathComponent(try XCTUnwrap(files[key]))))
            }
            let x = try cloud("x"), y = try cloud("y"), query = try cloud("query")
            let cost = GroundCost.pNorm(try number("p"))
            XCTAssertEqual(try cost.defaultEpsilon(x, y), try number("default_epsilon"), accuracy: 1e-12, name)

            let solution = try Sinkhorn.solve(
                source: x, target: y,
                options: SinkhornOptions(epsilon: .fixed(try number("epsilon")), threshold: 1e-11, maxIterations: 200_000),
                cost: cost)
            XCTAssertTrue(solution.converged, name)
            let regOTCost = try number("reg_ot_cost")
            XCTAssertEqual(solution.regOTCost, regOTCost, accuracy: 1e-8 * abs(regOTCost), name)

            let paired = values["trace"] != nil
            let statistics = try CouplingStatistics.compute(source: x, target: y, solution: solution, cost: cost, paired: paired)
            XCTAssertEqual(statistics.transportCost, try number("transport_cost"), accuracy: 1e-7 * abs(try number("transport_cost")), name)
            XCTAssertEqual(statistics.entropy, try number("entropy"), accuracy: 1e-7 * abs(try number("entropy")), name)
            XCTAssertEqual(statistics.mass, try number("mass"), accuracy: 1e-9, name)
            if paired {
                XCTAssertEqual(try XCTUnwrap(statistics.trace), try number("trace"), accuracy: 1e-8, name)
                XCTAssertEqual(try XCTUnwrap(statistics.klFromIdentity), try number("kl_from_identity"), accuracy: 1e-7, name)
            }

            let mapped = try EntropicMap(solution: solution, target: y, cost: cost).transport(query)
            let expected = try XCTUnwrap(values["transported"] as? [[Double]])
            XCTAssertEqual(mapped.rows, expected.count)
            for (i, row) in expected.enumerated() {
                for (k, value) in row.enumerated() { XCTAssertEqual(mapped[i, k], value, accuracy: 1e-7, "\(name) [\(i), \(k)]") }
            }
        }
    }
}
