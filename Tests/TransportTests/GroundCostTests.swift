import Foundation
import LinearAlgebra
@testable import Transport
import XCTest

/// Translation-invariant costs against closed forms: the cost matrix, the entropic map's reduction
/// to the barycentric projection for h = ‖·‖², the conjugate gradient inverting the gradient,
/// the coupling statistics against a plan built entry by entry, and ProgOT on the p-norm cost.
final class GroundCostTests: XCTestCase {
    private func cloud(_ rows: Int, _ cols: Int, seed: UInt64, shift: Double = 0) -> Matrix<Double> {
        var rng = SeededRNG(seed: seed)
        return Matrix(rows: rows, cols: cols) { _, _ in rng.normal() + shift }
    }

    func testPNormCostMatrixIsTheSumOfCoordinatePowers() throws {
        let x = cloud(7, 3, seed: 1), y = cloud(5, 3, seed: 2, shift: 0.5)
        for p in [1.5, 2.5] {
            let matrix = GroundCost.pNorm(p).matrix(x, y)
            for i in 0..<x.rows {
                for j in 0..<y.rows {
                    let expected = (0..<3).reduce(0.0) { $0 + Foundation.pow(abs(x[i, $1] - y[j, $1]), p) / p }
                    XCTAssertEqual(matrix[i, j], expected, accuracy: 1e-12 * Swift.max(1, expected))
                    XCTAssertEqual(GroundCost.pNorm(p)(Array(x.row(i)), Array(y.row(j))), expected, accuracy: 1e-12 * Swift.max(1, expected))
                }
            }
        }
        // The coordinate path with φ(z) = z² is the gemm path's cost.
        let generic = TranslationInvariantCostRows(x, y, cost: SquaredDifference()).matrix()
        let gemm = GroundCost.squaredEuclidean.matrix(x, y)
        for (a, b) in zip(generic.storage, gemm.storage) { XCTAssertEqual(a, b, accuracy: 1e-12) }
    }

    func testVectorLogarithmMatchesLibm() {
        var worst = 0.0
        for i in 0..<20_000 {
            let x = Foundation.pow(10, 300 * Double(i) / 20_000) * (1 + 1e-3 * Double(i % 7))
            let inputs = SIMD4(x, 1 + 1e-9 * Double(i), 1.414_213_562_373_095 + 1e-6 * Double(i % 13), Foundation.exp(Double(i % 50)))
            let lanes = vectorLogarithm(inputs)
            for lane in 0..<4 {
                let expected = Foundation.log(inputs[lane])
                worst = max(worst, abs(lanes[lane] - expected) / Swift.max(abs(expected), 1e-300))
            }
        }
        XCTAssertLessThan(worst, 1e-14)
        XCTAssertEqual(vectorLogarithm(SIMD4(repeating: 1)), SIMD4(repeating: 0))
    }

    /// Shapes that cross the kernels' tiles (8 rows, 256 columns, 4 lanes) with remainders: the
    /// tiled cost matrix is Σ_d φ entry by entry, and the tiled entropic map is the sum over j
    /// written out.
    func testTiledElasticKernelsMatchTheirEntryByEntryForms() throws {
        let x = cloud(11, 5, seed: 3), y = cloud(263, 5, seed: 4, shift: 0.3)
        let costs: [(GroundCost, any CoordinateCost)] = [
            (.elasticL1(lambda: 0.7), ElasticL1Cost(lambda: 0.7)),
            (.elasticSTVS(lambda: 1.5, gamma: 0.8), ElasticSTVSCost(lambda: 1.5, gamma: 0.8)),
            (.pNorm(1.5), PNormCost(p: 1.5)),
        ]
        for (cost, coordinates) in costs {
            let matrix = cost.matrix(x, y)
            for i in 0..<x.rows {
                for j in 0..<y.rows {
                    let expected = (0..<5).reduce(0.0) { $0 + coordinates.value(x[i, $1] - y[j, $1]) }
                    XCTAssertEqual(matrix[i, j], expected, accuracy: 1e-13 * Swift.max(1, expected), "\(cost) (\(i), \(j))")
                }
            }
            let solution = try Sinkhorn.solve(source: y, target: y, options: SinkhornOptions(epsilon: .fixed(0.5)), cost: cost)
            let map = EntropicMap(solution: solution, target: y, cost: cost)
            let mapped = try map.transport(x)
            for i in 0..<x.rows {
                let weights = (0..<y.rows).map { j in (solution.g[j] - matrix[i, j]) / 0.5 }
                let top = weights.max() ?? 0
                let total = weights.reduce(0.0) { $0 + Foundation.exp($1 - top) }
                for k in 0..<5 {
                    let pull = (0..<y.rows).reduce(0.0) { sum, j in
                        sum + Foundation.exp(weights[j] - top) / total * coordinates.derivative(x[i, k] - y[j, k])
                    }
                    XCTAssertEqual(mapped[i, k], x[i, k] - coordinates.conjugateDerivative(pull), accuracy: 1e-9, "\(cost) (\(i), \(k))")
                }
            }
        }
    }

    func testConjugateDerivativeInvertsTheDerivative() {
        for cost in [PNormCost(p: 1.5), PNormCost(p: 3)] {
            for z in [-2.5, -0.3, 0, 0.01, 1.7] {
                XCTAssertEqual(cost.conjugateDerivative(cost.derivative(z)), z, accuracy: 1e-12)
            }
        }
        // φ'(z) against a central difference of φ.
        let cost = PNormCost(p: 1.5), h = 1e-6
        for z in [-1.3, 0.4, 2.2] {
            XCTAssertEqual(cost.derivative(z), (cost.value(z + h) - cost.value(z - h)) / (2 * h), accuracy: 1e-7)
        }
    }

    func testTranslationInvariantMapIsTheBarycentricProjectionForSquaredEuclidean() throws {
        let x = cloud(40, 4, seed: 3), y = cloud(50, 4, seed: 4, shift: 1)
        let solution = try Sinkhorn.solve(source: x, target: y, options: SinkhornOptions(epsilon: .fixed(0.8), threshold: 1e-9))
        let map = EntropicMap(solution: solution, target: y)
        let query = cloud(9, 4, seed: 5)
        let barycentric = try map.transport(query)
        let general = map.translationInvariantTransport(query, cost: SquaredDifference())
        for (a, b) in zip(barycentric.storage, general.storage) { XCTAssertEqual(a, b, accuracy: 1e-10) }
    }

    func testCouplingStatisticsMatchThePlanBuiltEntryByEntry() throws {
        let x = cloud(30, 3, seed: 6)
        var noise = SeededRNG(seed: 7)
        let y = Matrix(rows: 30, cols: 3) { i, k in x[i, k] + 0.1 * noise.normal() }
        for cost in [GroundCost.squaredEuclidean, .pNorm(1.5)] {
            let solution = try Sinkhorn.solve(source: x, target: y, options: SinkhornOptions(epsilon: .fixed(0.2), threshold: 1e-6, maxIterations: 100_000), cost: cost)
            XCTAssertTrue(solution.converged, "\(cost): \(solution.iterations) iterations, error \(solution.marginalError)")
            let statistics = try CouplingStatistics.compute(source: x, target: y, solution: solution, cost: cost, paired: true)
            let c = cost.matrix(x, y)
            var transport = 0.0, entropy = 0.0, mass = 0.0, trace = 0.0, kl = 0.0
            for i in 0..<30 {
                for j in 0..<30 {
                    let p = Foundation.exp((solution.f[i] + solution.g[j] - c[i, j]) / solution.epsilon) / 900
                    transport += p * c[i, j]
                    entropy -= p * Foundation.log(p)
                    mass += p
                    if i == j {
                        trace += p
                        kl += Foundation.log((1.0 / 30) / p) / 30
                    }
                }
            }
            XCTAssertEqual(statistics.transportCost, transport, accuracy: 1e-10)
            XCTAssertEqual(statistics.entropy, entropy, accuracy: 1e-10)
            XCTAssertEqual(statistics.mass, 1, accuracy: 1e-9)
            XCTAssertEqual(try XCTUnwrap(statistics.trace), trace, accuracy: 1e-12)
            XCTAssertEqual(try XCTUnwrap(statistics.klFromIdentity), kl, accuracy: 1e-10)
            // Small noise at small ε: nearly all the mass sits on the true pairs.
            XCTAssertGreaterThan(trace, 0.8)
        }
        let unpaired = try CouplingStatistics.compute(
            source: x, target: y, solution: try Sinkhorn.solve(source: x, target: y), paired: false)
        XCTAssertNil(unpaired.trace)
        XCTAssertNil(unpaired.klFromIdentity)
    }

    func testInvalidCostsAreRefused() throws {
        XCTAssertThrowsError(try GroundCost.pNorm(1).validated())
        XCTAssertThrowsError(try GroundCost.pNorm(.nan).validated())
        let x = cloud(5, 2, seed: 8)
        XCTAssertThrowsError(try Sinkhorn.solve(source: x, target: x, cost: .pNorm(0.5)))
        var rng = SeededRNG(seed: 0)
        XCTAssertThrowsError(try ProgOTEstimator(debiased: true, cost: .pNorm(1.5))
            .fitWithTrajectory(source: x, target: x, rng: &rng))
    }

    func testProgOTOnThePNormCostReachesTheTargetAndRecordsItsLastPlan() throws {
        let x = cloud(120, 3, seed: 9), y = cloud(150, 3, seed: 10, shift: 2)
        var rng = SeededRNG(seed: 0)
        let fit = try ProgOTEstimator(steps: 4, cost: .pNorm(1.5)).fitWithTrajectory(source: x, target: y, rng: &rng)
        XCTAssertEqual(fit.map.cost, .pNorm(1.5))
        XCTAssertTrue(fit.map.converged)
        XCTAssertEqual(fit.lastStepSource, fit.iterates[2])
        let solution = try XCTUnwrap(fit.lastStepSolution)
        XCTAssertEqual(solution.epsilon, try XCTUnwrap(fit.map.steps.last).epsilon)
        // The fitted points end near the target's mean (the source's was 0).
        let moved = fit.iterates[3]
        for k in 0..<3 {
            let mean = (0..<moved.rows).reduce(0.0) { $0 + moved[$1, k] } / Double(moved.rows)
            XCTAssertEqual(mean, 2, accuracy: 0.3)
        }
        // Replaying the map on the training points gives the fitted iterates.
        let replayed = try fit.map.transport(x)
        for (a, b) in zip(replayed.storage, moved.storage) { XCTAssertEqual(a, b, accuracy: 1e-10) }
        // The map survives a JSON round trip with its cost, and maps without one read as ‖·‖².
        let decoded = try JSONDecoder().decode(ProgOTMap<Double>.self, from: JSONEncoder().encode(fit.map))
        XCTAssertEqual(decoded, fit.map)
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(fit.map)) as? [String: Any])
        object["cost"] = nil
        let legacy = try JSONDecoder().decode(ProgOTMap<Double>.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(legacy.cost, .squaredEuclidean)
    }
}
