import Foundation
import LinearAlgebra
import TestSupport
import Transport
import XCTest

/// Sinkhorn and the MBO map on OTT-JAX 0.6.0's elastic costs, `RegTICost(L1(), lam)` and
/// `RegTICost(STVS(γ), lam)` (scripts/fixtures/elastic_cost_worker.py): default ε, reg_ot_cost,
/// the plan's cost, and transported points, whose ∇h* the fixture finds by bisection. For STVS at
/// λ ≠ 1 OTT's own transport differs from that (its h_legendre shrinks at γλ; the fixture records
/// by how much), and ours follows the exact inverse.
final class ElasticCostFixtureTests: XCTestCase {
    func testElasticCasesMatchOTT() throws {
        let data = try Data(contentsOf: TestPaths.otFixtures.appendingPathComponent("elastic_fixtures.json"))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let files = try XCTUnwrap(root["files"] as? [String: String])
        func cloud(_ key: String) throws -> Matrix<Double> {
            try Matrix(TestPaths.numericCSV(TestPaths.otFixtures.appendingPathComponent(try XCTUnwrap(files[key]))))
        }
        let x = try cloud("x"), y = try cloud("y"), query = try cloud("query")
        let cases = try XCTUnwrap(root["cases"] as? [String: [String: Any]])
        XCTAssertEqual(Set(cases.keys), ["elastic_l1", "elastic_l1_half", "elastic_stvs", "elastic_stvs_l05"])
        for (name, values) in cases.sorted(by: { $0.key < $1.key }) {
            let fixture = CostFixtureCase(name: name, values: values)
            let lambda = try fixture.number("lambda")
            let cost: GroundCost = values["penalty"] as? String == "l1"
                ? .elasticL1(lambda: lambda) : .elasticSTVS(lambda: lambda, gamma: try fixture.number("gamma"))
            let (solution, _) = try fixture.checkSinkhorn(x, y, cost: cost)
            let mapped = try fixture.checkTransported(solution, target: y, query: query, cost: cost)
            var moved = 0
            for i in 0..<query.rows {
                for k in 0..<query.cols where abs(mapped[i, k] - query[i, k]) > 1e-9 { moved += 1 }
            }
            XCTAssertEqual(Double(moved) / Double(query.rows), try fixture.number("moved_coordinates_per_point"), accuracy: 1e-12, name)
        }
    }

    /// REFERENCES.md Part A §1.4's oracles for ∇h* at λ = γ = 1 (soft thresholding; STVS's
    /// z − γ²/z above γ).
    func testShrinkageOracles() throws {
        XCTAssertEqual(try GroundCost.elasticL1(lambda: 1).conjugateGradient([3, 0.5, -2]), [2, 0, -1])
        let stvs = try GroundCost.elasticSTVS(lambda: 1, gamma: 1).conjugateGradient([3, 0.5, -2])
        for (value, expected) in zip(stvs, [3 - 1.0 / 3, 0, -2 + 0.5]) { XCTAssertEqual(value, expected, accuracy: 1e-12) }
    }

    /// ∇h against central differences of h, and ∇h* as the inverse of ∇h, for every cost and
    /// for STVS across its convex range of λ.
    func testGradientsAndTheirInverses() throws {
        let costs: [GroundCost] = [
            .squaredEuclidean, .pNorm(1.5), .pNorm(3), .elasticL1(lambda: 0.7),
            .elasticSTVS(lambda: 0.3, gamma: 0.5), .elasticSTVS(lambda: 1, gamma: 2), .elasticSTVS(lambda: 1.9, gamma: 1),
        ]
        let z = [1.3, -0.4, 2.7, -3.1, 0.05]
        for cost in costs {
            let gradient = try cost.gradient(z)
            for k in z.indices {
                var plus = z, minus = z
                plus[k] += 1e-6
                minus[k] -= 1e-6
                let difference = (cost(plus, Array(repeating: 0, count: z.count)) - cost(minus, Array(repeating: 0, count: z.count))) / 2e-6
                XCTAssertEqual(gradient[k], difference, accuracy: 1e-6 * max(1, abs(difference)), "\(cost) ∂\(k)")
            }
            let back = try cost.conjugateGradient(gradient)
            for k in z.indices { XCTAssertEqual(back[k], z[k], accuracy: 1e-10, "\(cost) ∇h*(∇h(z))[\(k)]") }
        }
    }

    func testInvalidElasticParametersAreRejected() {
        XCTAssertThrowsError(try GroundCost.elasticL1(lambda: -1).validated())
        XCTAssertThrowsError(try GroundCost.elasticSTVS(lambda: 2.5, gamma: 1).validated()) { error in
            XCTAssertTrue("\(error)".contains("λ ≤ 2"), "\(error)")
        }
        XCTAssertThrowsError(try GroundCost.elasticSTVS(lambda: 1, gamma: 0).validated())
        XCTAssertThrowsError(try GroundCost(name: "manhattan")) { error in
            XCTAssertTrue("\(error)".contains("elastic_l1"), "\(error)")
        }
        XCTAssertEqual(try GroundCost(name: "elastic_stvs", lambda: 0.5, gamma: 3), .elasticSTVS(lambda: 0.5, gamma: 3))
    }
}
