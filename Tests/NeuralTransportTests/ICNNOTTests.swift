import Foundation
import LinearAlgebra
import NeuralTransport
import Transport
import XCTest

/// ICNN-OT training on Gaussian pairs whose OT map is known: N(0, I) → N(m, A²) with A
/// symmetric positive definite has T(x) = Ax + m.
final class ICNNOTTests: XCTestCase {
    /// MSE against the exact map of the trained ICNN map and of the mean-shift baseline, on 500
    /// fresh source points (2000 training points per side).
    private func errors(
        a: Matrix<Double>, shift m: [Double], hiddenUnits: [Int], iterations: Int, learningRate: Double,
        rng: inout SeededRNG
    ) throws -> (icnn: Double, meanShift: Double) {
        let d = m.count
        func exact(_ x: Matrix<Double>) -> Matrix<Double> {
            let moved = x.multiplied(by: a, transposeOther: true)
            return Matrix(rows: x.rows, cols: d) { i, j in moved[i, j] + m[j] }
        }
        let source: Matrix<Double> = rng.normalMatrix(rows: 2000, cols: d)
        let target = exact(rng.normalMatrix(rows: 2000, cols: d))
        let query: Matrix<Double> = rng.normalMatrix(rows: 500, cols: d)
        var estimator = ICNNOTEstimator()
        estimator.hiddenUnits = hiddenUnits
        estimator.iterations = iterations
        estimator.innerIterations = 5
        estimator.batchSize = 128
        estimator.learningRate = learningRate
        let map = try estimator.fit(source: source, target: target, rng: &rng)
        let baseline = try MeanShiftEstimator().fit(source: source, target: target, rng: &rng)
        let truth = exact(query)
        func mse(_ predicted: Matrix<Double>) -> Double {
            zip(predicted.storage, truth.storage).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(query.rows)
        }
        return (mse(try map.transport(query)), mse(try baseline.transport(query)))
    }

    func testLearnedMapBeatsMeanShiftOnAGaussianPair() throws {
        var rng = SeededRNG(seed: 21)
        let result = try errors(a: try Matrix([[1.5, 0.4], [0.4, 0.6]]), shift: [2, -1], hiddenUnits: [16, 16],
                                iterations: 400, learningRate: 5e-3, rng: &rng)
        print("Gaussian d=2: ICNN-OT MSE \(result.icnn), mean shift \(result.meanShift)")
        XCTAssertLessThan(result.icnn, 0.5 * result.meanShift)
    }

    func testLearnedMapBeatsMeanShiftInEightDimensions() throws {
        var rng = SeededRNG(seed: 31)
        let d = 8
        // A = QΛQᵀ with eigenvalues in [0.5, 1.5]: symmetric positive definite.
        let q = try (rng.normalMatrix(rows: d, cols: d) as Matrix<Double>).thinSVD().u
        let scaled = Matrix(rows: d, cols: d) { i, j in q[i, j] * (0.5 + Double(j) / Double(d - 1)) }
        let a = scaled.multiplied(by: q, transposeOther: true)
        let m = (0..<d).map { _ in rng.normal() }
        let result = try errors(a: a, shift: m, hiddenUnits: [32, 32], iterations: 500, learningRate: 3e-3, rng: &rng)
        print("Gaussian d=8: ICNN-OT MSE \(result.icnn), mean shift \(result.meanShift)")
        XCTAssertLessThan(result.icnn, result.meanShift)
    }
}
