import Foundation
import LinearAlgebra
@testable import NeuralTransport
import Transport
import XCTest

/// ICNN-OT training on Gaussian pairs whose OT map is known (`GaussianPair`).
final class ICNNOTTests: XCTestCase {
    private func estimator(hiddenUnits: [Int], iterations: Int, learningRate: Double) -> ICNNOTEstimator {
        var estimator = ICNNOTEstimator()
        estimator.hiddenUnits = hiddenUnits
        estimator.iterations = iterations
        estimator.innerIterations = 5
        estimator.batchSize = 128
        estimator.learningRate = learningRate
        return estimator
    }

    func testLearnedMapBeatsMeanShiftOnAGaussianPair() throws {
        var rng = SeededRNG(seed: 21)
        let pair = GaussianPair(a: try Matrix([[1.5, 0.4], [0.4, 0.6]]), shift: [2, -1])
        let result = try pair.errors(of: estimator(hiddenUnits: [16, 16], iterations: 400, learningRate: 5e-3), rng: &rng)
        print("Gaussian d=2: ICNN-OT MSE \(result.learned), mean shift \(result.meanShift)")
        XCTAssertLessThan(result.learned, 0.5 * result.meanShift)
    }

    func testLearnedMapBeatsMeanShiftInEightDimensions() throws {
        var rng = SeededRNG(seed: 31)
        let pair = try GaussianPair.random(dimension: 8, rng: &rng)
        let result = try pair.errors(of: estimator(hiddenUnits: [32, 32], iterations: 500, learningRate: 3e-3), rng: &rng)
        print("Gaussian d=8: ICNN-OT MSE \(result.learned), mean shift \(result.meanShift)")
        XCTAssertLessThan(result.learned, result.meanShift)
    }
}

/// The training loop itself (internal, hence `@testable`), one outer step at a time.
final class ICNNOTTrainingTests: XCTestCase {
    /// CellOT clamps f's hidden weights after every f-step (g is only penalised): after each
    /// outer step every W of f is ≥ 0, so f stays convex along any segment; g's penalty pulls
    /// its negative weights towards 0.
    func testFStaysConvexAfterEveryStep() throws {
        var rng = SeededRNG(seed: 12)
        let source: Matrix<Double> = rng.normalMatrix(rows: 300, cols: 3)
        let target = Matrix<Double>(rows: 300, cols: 3) { _, j in 2 * rng.normal() + Double(j) }
        var settings = ICNNOTEstimator()
        settings.hiddenUnits = [8, 8, 8]
        settings.batchSize = 64
        settings.innerIterations = 3
        settings.learningRate = 1e-2
        settings.initScale = 0.5
        var training = try ICNNOTTraining(settings: settings, source: source, target: target, rng: &rng)
        let penaltyBefore = training.g.negativeWeightPenalty()
        XCTAssertGreaterThan(penaltyBefore, 0)
        let a: Matrix<Double> = rng.normalMatrix(rows: 40, cols: 3), b: Matrix<Double> = rng.normalMatrix(rows: 40, cols: 3)
        for _ in 0..<30 {
            training.run(iterations: 1, rng: &rng)
            XCTAssertTrue(training.f.hiddenWeights.allSatisfy { $0.storage.allSatisfy { $0 >= 0 } })
            let (fa, fb) = (training.f.values(a), training.f.values(b))
            for t in [0.25, 0.5, 0.75] {
                let mixed = Matrix<Double>(rows: a.rows, cols: a.cols) { i, j in t * a[i, j] + (1 - t) * b[i, j] }
                for (i, value) in training.f.values(mixed).enumerated() {
                    XCTAssertLessThanOrEqual(value, t * fa[i] + (1 - t) * fb[i] + 1e-9)
                }
            }
        }
        XCTAssertLessThan(training.g.negativeWeightPenalty(), penaltyBefore)
    }
}
