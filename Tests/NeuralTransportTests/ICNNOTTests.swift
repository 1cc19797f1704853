import Foundation
import LinearAlgebra
import NeuralTransport
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
