import Foundation
import LinearAlgebra
import Transport
import XCTest

/// One case of an OTT-JAX cost fixture (cost_fixtures.json, elastic_fixtures.json): the checks
/// every translation-invariant cost shares — OTT's default ε, Sinkhorn at the case's ε to
/// threshold 1e-11, reg_ot_cost, the plan's transport cost, and the transported query points.
struct CostFixtureCase {
    let name: String
    let values: [String: Any]

    func number(_ key: String) throws -> Double {
        try XCTUnwrap((values[key] as? NSNumber)?.doubleValue, "\(name): \(key)")
    }

    /// Checks the default ε and the solve against the fixture; returns the solution and its statistics.
    func checkSinkhorn(_ x: Matrix<Double>, _ y: Matrix<Double>, cost: GroundCost,
                       paired: Bool = false) throws -> (SinkhornResult<Double>, CouplingStatistics) {
        XCTAssertEqual(try cost.defaultEpsilon(x, y), try number("default_epsilon"), accuracy: 1e-12, name)
        // Dense keeps the cost matrix (computed once); online recomputes its row blocks every
        // iteration: both must give OTT's value.
        var solutions: [SinkhornResult<Double>] = []
        for mode in [SinkhornOptions.Mode.dense, .online] {
            var options = SinkhornOptions(epsilon: .fixed(try number("epsilon")), threshold: 1e-11, maxIterations: 200_000)
            options.mode = mode
            let solution = try Sinkhorn.solve(source: x, target: y, options: options, cost: cost)
            XCTAssertTrue(solution.converged, "\(name) \(mode)")
            let regOTCost = try number("reg_ot_cost")
            XCTAssertEqual(solution.regOTCost, regOTCost, accuracy: 1e-8 * abs(regOTCost), "\(name) \(mode)")
            solutions.append(solution)
        }
        let solution = solutions[0]
        let statistics = try CouplingStatistics.compute(source: x, target: y, solution: solution, cost: cost, paired: paired)
        XCTAssertEqual(statistics.transportCost, try number("transport_cost"), accuracy: 1e-7 * abs(try number("transport_cost")), name)
        return (solution, statistics)
    }

    /// Checks the entropic map of `solution` on `query` against the fixture's transported points; returns the map's image.
    func checkTransported(_ solution: SinkhornResult<Double>, target y: Matrix<Double>, query: Matrix<Double>,
                          cost: GroundCost) throws -> Matrix<Double> {
        let mapped = try EntropicMap(solution: solution, target: y, cost: cost).transport(query)
        let expected = try XCTUnwrap(values["transported"] as? [[Double]])
        XCTAssertEqual(mapped.rows, expected.count)
        for (i, row) in expected.enumerated() {
            for (k, value) in row.enumerated() { XCTAssertEqual(mapped[i, k], value, accuracy: 1e-7, "\(name) [\(i), \(k)]") }
        }
        return mapped
    }
}
