@testable import Datasets
import Foundation
import LinearAlgebra
@testable import Stages
import Transport
import XCTest

/// The coupling experiment on a small paired problem (seconds), and the blur's kernel and edges
/// against their definitions.
final class CouplingRecoveryTests: XCTestCase {
    private func pairedClouds(n: Int, noise: Double) -> (Matrix<Double>, Matrix<Double>) {
        var rng = SeededRNG(seed: 3)
        let x = Matrix(rows: n, cols: 4) { _, _ in rng.normal() }
        let y = Matrix(rows: n, cols: 4) { i, k in x[i, k] + noise * rng.normal() }
        return (x, y)
    }

    func testSmallerEpsilonGivesLowerEntropyAndMoreMassOnTheTruePairs() throws {
        let (x, y) = pairedClouds(n: 60, noise: 0.1)
        for cost in [GroundCost.squaredEuclidean, .pNorm(1.5)] {
            let settings = CouplingRecovery.Settings(cost: cost, epsilonScales: [0.125, 0.5, 2], tunedEpsilon: true,
                                                     progotSteps: [2, 4], paired: true)
            let rows = try CouplingRecovery.run(source: x, target: y, settings: settings, seed: 0)
            XCTAssertEqual(rows.map(\.method), ["sinkhorn", "sinkhorn", "sinkhorn", "sinkhorn", "progot", "progot"])
            XCTAssertEqual(rows.compactMap(\.steps), [2, 4])
            let grid = Array(rows.prefix(3))
            XCTAssertEqual(grid.map(\.epsilon).sorted(), grid.map(\.epsilon), "ε grows along the grid")
            for (smaller, larger) in zip(grid, grid.dropFirst()) {
                XCTAssertLessThan(smaller.statistics.entropy, larger.statistics.entropy)
                XCTAssertLessThan(smaller.statistics.transportCost, larger.statistics.transportCost)
                XCTAssertGreaterThan(try XCTUnwrap(smaller.statistics.trace), try XCTUnwrap(larger.statistics.trace))
                XCTAssertLessThan(try XCTUnwrap(smaller.statistics.klFromIdentity), try XCTUnwrap(larger.statistics.klFromIdentity))
            }
            for row in rows {
                XCTAssertEqual(row.statistics.mass, 1, accuracy: 1e-2, "\(row.setting)")
                XCTAssertGreaterThan(row.iterations, 0)
                // Entropy of a coupling of uniform marginals lies between log n and log n².
                XCTAssertGreaterThanOrEqual(row.statistics.entropy, Foundation.log(60) - 1e-2)
                XCTAssertLessThanOrEqual(row.statistics.entropy, 2 * Foundation.log(60) + 1e-9)
                XCTAssertGreaterThanOrEqual(try XCTUnwrap(row.statistics.klFromIdentity), -1e-2)
            }
            XCTAssertEqual(rows[0].searchIterations, 0)
            XCTAssertGreaterThan(rows[3].searchIterations, 0, "the tuned row counts its search")
            XCTAssertGreaterThan(rows[5].iterations, 0)
        }
    }

    func testProgOTsCouplingIsItsLastStepsPlanScoredWithTheOriginalPoints() throws {
        let (x, y) = pairedClouds(n: 40, noise: 0.3)
        let settings = CouplingRecovery.Settings(epsilonScales: [], tunedEpsilon: false, progotSteps: [3], paired: true)
        let row = try XCTUnwrap(CouplingRecovery.run(source: x, target: y, settings: settings, seed: 1).first)
        var estimator = ProgOTEstimator()
        estimator.steps = 3
        var rng = SeededRNG(seed: 1)
        let fit = try estimator.fitWithTrajectory(source: x, target: y, rng: &rng)
        let solution = try XCTUnwrap(fit.lastStepSolution)
        let plan = GroundCost.squaredEuclidean.matrix(fit.lastStepSource, y), original = GroundCost.squaredEuclidean.matrix(x, y)
        var cost = 0.0
        for i in 0..<40 {
            for j in 0..<40 {
                cost += Foundation.exp((solution.f[i] + solution.g[j] - plan[i, j]) / solution.epsilon) / 1600 * original[i, j]
            }
        }
        XCTAssertEqual(row.statistics.transportCost, cost, accuracy: 1e-10)
        XCTAssertEqual(row.iterations, fit.map.steps.reduce(0) { $0 + $1.iterations })
    }

    func testGivenEndEpsilonsScheduleEveryK() throws {
        let (x, y) = pairedClouds(n: 40, noise: 0.2)
        let settings = CouplingRecovery.Settings(epsilonScales: [], tunedEpsilon: false, progotSteps: [2, 4],
                                                 progotEndScales: [0.25, 1], progot: ProgOTEstimator(alpha: .lin), paired: true)
        let rows = try CouplingRecovery.run(source: x, target: y, settings: settings, seed: 0)
        XCTAssertEqual(rows.map(\.setting), ["K = 2, end ε × 0.25", "K = 2, end ε × 1", "K = 4, end ε × 0.25", "K = 4, end ε × 1"])
        let base = try GroundCost.squaredEuclidean.defaultEpsilon(x, y)
        // lin: the last step runs at (1 − t) ε₀ + t ε_end with t = 1 − 1/K.
        XCTAssertEqual(rows[0].epsilon, 0.5 * base + 0.5 * 0.25 * base, accuracy: 1e-9 * base)
        XCTAssertEqual(rows[2].epsilon, 0.25 * base + 0.75 * 0.25 * base, accuracy: 1e-9 * base)
        XCTAssertEqual(rows[1].epsilon, base, accuracy: 1e-9 * base)
        XCTAssertTrue(rows.allSatisfy { $0.searchIterations == 0 })
        // The smaller end ε gives the sharper plan.
        XCTAssertGreaterThan(try XCTUnwrap(rows[2].statistics.trace), try XCTUnwrap(rows[3].statistics.trace))
    }

    func testBadSettingsAreRefused() {
        let (x, y) = pairedClouds(n: 10, noise: 0.1)
        XCTAssertThrowsError(try CouplingRecovery.run(
            source: x, target: y, settings: .init(epsilonScales: [], tunedEpsilon: false, progotSteps: []), seed: 0))
        XCTAssertThrowsError(try CouplingRecovery.run(source: x, target: y, settings: .init(epsilonScales: [-1]), seed: 0))
        XCTAssertThrowsError(try CouplingRecovery.run(source: x, target: y, settings: .init(progotSteps: [0]), seed: 0))
        XCTAssertThrowsError(try CouplingRecovery.run(source: x, target: y, settings: .init(cost: .pNorm(0.9)), seed: 0))
    }

    func testBlurKernelAndReflectedEdges() throws {
        let blur = try GaussianBlur(sigma: 1, height: 3, width: 4)
        let kernel = blur.kernel
        XCTAssertEqual(kernel.count, 9, "radius ⌊4σ + ½⌋ = 4")
        XCTAssertEqual(kernel.reduce(0, +), 1, accuracy: 1e-15)
        XCTAssertEqual(kernel[4] / kernel[5], Foundation.exp(0.5), accuracy: 1e-12)
        // scipy's "reflect": … c b a | a b c d | d c b a …, repeated for kernels wider than the line.
        XCTAssertEqual((-5...8).map { GaussianBlur.reflect($0, count: 4) }, [3, 3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0, 0])
        // A constant image stays constant; the total intensity of any image is kept only up to
        // the edges, but a blurred image's pixels stay within the original's range.
        let constant = try blur.apply(Matrix(rows: 1, cols: 12, repeating: 5))
        for value in constant.storage { XCTAssertEqual(value, 5, accuracy: 1e-12) }
        let impulse = try blur.apply(Matrix(rows: 1, cols: 12) { _, j in j == 5 ? 1 : 0 })
        XCTAssertTrue(impulse.storage.allSatisfy { $0 >= 0 && $0 <= 1 })
        XCTAssertGreaterThan(impulse[0, 5], impulse[0, 6])
        XCTAssertThrowsError(try blur.apply(Matrix(rows: 1, cols: 10)))
        XCTAssertThrowsError(try GaussianBlur(sigma: 0, height: 8, width: 8))
    }
}
