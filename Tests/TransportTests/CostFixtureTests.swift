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
            let fixture = CostFixtureCase(name: name, values: values)
            let files = try XCTUnwrap(values["files"] as? [String: String])
            func cloud(_ key: String) throws -> Matrix<Double> {
                try Matrix(TestPaths.numericCSV(TestPaths.otFixtures.appendingPathComponent(try XCTUnwrap(files[key]))))
            }
            let x = try cloud("x"), y = try cloud("y"), query = try cloud("query")
            let cost = GroundCost.pNorm(try fixture.number("p"))
            let paired = values["trace"] != nil
            let (solution, statistics) = try fixture.checkSinkhorn(x, y, cost: cost, paired: paired)
            XCTAssertEqual(statistics.entropy, try fixture.number("entropy"), accuracy: 1e-7 * abs(try fixture.number("entropy")), name)
            XCTAssertEqual(statistics.mass, try fixture.number("mass"), accuracy: 1e-9, name)
            if paired {
                XCTAssertEqual(try XCTUnwrap(statistics.trace), try fixture.number("trace"), accuracy: 1e-8, name)
                XCTAssertEqual(try XCTUnwrap(statistics.klFromIdentity), try fixture.number("kl_from_identity"), accuracy: 1e-7, name)
            }
            _ = try fixture.checkTransported(solution, target: y, query: query, cost: cost)
        }
    }
}
