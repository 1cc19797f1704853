import Foundation
import LinearAlgebra
import NeuralTransport
import Transport
import XCTest

/// ICNN-OT training on a Gaussian pair whose OT map is known: N(0, I) → N(m, A²) with A
/// symmetric positive definite has T(x) = Ax + m.
final class ICNNOTTests: XCTestCase {
    func testLearnedMapBeatsMeanShiftOnAGaussianPair() throws {
        var rng = SeededRNG(seed: 21)
        let a = try Matrix<Double>([[1.5, 0.4], [0.4, 0.6]]), m = [2.0, -1.0]
        func exact(_ x: Matrix<Double>) -> Matrix<Double> {
            let moved = x.multiplied(by: a, transposeOther: true)
            return Matrix(rows: x.rows, cols: 2) { i, j in moved[i, j] + m[j] }
        }
        let source: Matrix<Double> = rng.normalMatrix(rows: 2000, cols: 2)
        let target = exact(rng.normalMatrix(rows: 2000, cols: 2))
        let query: Matrix<Double> = rng.normalMatrix(rows: 500, cols: 2)
        var estimator = ICNNOTEstimator()
        estimator.hiddenUnits = [16, 16]
        estimator.iterations = 400
        estimator.innerIterations = 5
        estimator.batchSize = 128
        estimator.learningRate = 5e-3
        var fitRNG = SeededRNG(seed: 22)
        let map = try estimator.fit(source: source, target: target, rng: &fitRNG)
        func mse(_ predicted: Matrix<Double>) -> Double {
            let truth = exact(query)
            return zip(predicted.storage, truth.storage).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(query.rows)
        }
        var shiftRNG = SeededRNG(seed: 23)
        let shift = try MeanShiftEstimator().fit(source: source, target: target, rng: &shiftRNG)
        let icnnError = mse(try map.transport(query)), shiftError = mse(try shift.transport(query))
        print("Gaussian d=2: ICNN-OT MSE \(icnnError), mean shift \(shiftError)")
        XCTAssertLessThan(icnnError, 0.5 * shiftError)
    }

    func testLearnedMapBeatsMeanShiftInEightDimensions() throws {
        var rng = SeededRNG(seed: 31)
        let d = 8
        // A = QΛQᵀ with eigenvalues in [0.5, 1.5]: symmetric positive definite.
        let q = try (rng.normalMatrix(rows: d, cols: d) as Matrix<Double>).thinSVD().u
        let scaled = Matrix(rows: d, cols: d) { i, j in q[i, j] * (0.5 + Double(j) / Double(d - 1)) }
        let a = scaled.multiplied(by: q, transposeOther: true)
        let m = (0..<d).map { _ in rng.normal() }
        func exact(_ x: Matrix<Double>) -> Matrix<Double> {
            let moved = x.multiplied(by: a, transposeOther: true)
            return Matrix(rows: x.rows, cols: d) { i, j in moved[i, j] + m[j] }
        }
        let source: Matrix<Double> = rng.normalMatrix(rows: 2000, cols: d)
        let target = exact(rng.normalMatrix(rows: 2000, cols: d))
        let query: Matrix<Double> = rng.normalMatrix(rows: 500, cols: d)
        var estimator = ICNNOTEstimator()
        estimator.hiddenUnits = [32, 32]
        estimator.iterations = 500
        estimator.innerIterations = 5
        estimator.batchSize = 128
        estimator.learningRate = 3e-3
        var fitRNG = SeededRNG(seed: 32)
        let map = try estimator.fit(source: source, target: target, rng: &fitRNG)
        func mse(_ predicted: Matrix<Double>) -> Double {
            let truth = exact(query)
            return zip(predicted.storage, truth.storage).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(query.rows)
        }
        var shiftRNG = SeededRNG(seed: 33)
        let shift = try MeanShiftEstimator().fit(source: source, target: target, rng: &shiftRNG)
        let icnnError = mse(try map.transport(query)), shiftError = mse(try shift.transport(query))
        print("Gaussian d=8: ICNN-OT MSE \(icnnError), mean shift \(shiftError)")
        XCTAssertLessThan(icnnError, shiftError)
    }
}
