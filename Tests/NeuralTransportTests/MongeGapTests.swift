import Foundation
import LinearAlgebra
import NeuralTransport
import Transport
import XCTest

/// The Monge gap estimator: the MLP's backward pass and the envelope-theorem gradients of the
/// entropic losses against central differences (Double), and a Gaussian pair.
final class MongeGapTests: XCTestCase {
    private func relativeError(_ a: Double, _ b: Double) -> Double {
        abs(a - b) / max(1e-8, abs(a) + abs(b))
    }

    /// Worst relative error of `analytic` against central differences of `objective` in every
    /// entry of `point`.
    private func worstError(_ point: Matrix<Double>, _ analytic: Matrix<Double>, step h: Double = 1e-5,
                            _ objective: (Matrix<Double>) throws -> Double) rethrows -> Double {
        var worst = 0.0
        for i in 0..<point.rows {
            for j in 0..<point.cols {
                var plus = point, minus = point
                plus[i, j] += h
                minus[i, j] -= h
                let numeric = (try objective(plus) - objective(minus)) / (2 * h)
                worst = max(worst, relativeError(analytic[i, j], numeric))
            }
        }
        return worst
    }

    func testMLPParameterGradientsMatchFiniteDifferences() {
        var rng = SeededRNG(seed: 5)
        let network = ResidualMLP<Double>(inputDimension: 3, hiddenUnits: [6, 4], rng: &rng)
        let x: Matrix<Double> = rng.normalMatrix(rows: 5, cols: 3)
        let weights: Matrix<Double> = rng.normalMatrix(rows: 5, cols: 3)
        func loss(_ parameters: [Double]) -> Double {
            var copy = network
            copy.flatParameters = parameters
            return zip(copy(x).storage, weights.storage).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let analytic = network.parameterGradients(x, outputGradient: weights)
        let parameters = network.flatParameters
        XCTAssertEqual(analytic.count, parameters.count)
        var worst = 0.0
        for index in parameters.indices {
            var plus = parameters, minus = parameters
            plus[index] += 1e-6
            minus[index] -= 1e-6
            let numeric = (loss(plus) - loss(minus)) / 2e-6
            worst = max(worst, abs(analytic[index] - numeric) / max(1e-6, abs(analytic[index]) + abs(numeric)))
        }
        XCTAssertLessThan(worst, 1e-6)
    }

    func testMLPFlatParametersRoundTrip() {
        var rng = SeededRNG(seed: 6)
        var network = ResidualMLP<Double>(inputDimension: 4, hiddenUnits: [5], rng: &rng)
        let copy = network
        network.flatParameters = network.flatParameters
        XCTAssertEqual(network, copy)
        XCTAssertEqual(network.flatParameters.count, 5 * 4 + 5 + 4 * 5 + 4)
    }

    /// A large enough ε for Sinkhorn to reach a 1e-11 marginal error quickly.
    private var tightOptions: SinkhornOptions {
        SinkhornOptions(epsilon: .fixed(2), threshold: 1e-11, maxIterations: 50_000, mode: .dense)
    }

    func testSinkhornDivergenceGradientMatchesFiniteDifferences() throws {
        var rng = SeededRNG(seed: 7)
        let z: Matrix<Double> = rng.normalMatrix(rows: 6, cols: 2)
        let y = Matrix<Double>(rows: 5, cols: 2) { _, _ in 1.5 * rng.normal() + 0.7 }
        let options = tightOptions
        let loss = try EntropicLosses.sinkhornDivergence(z, y, options: options)
        XCTAssertTrue(loss.converged)
        let reference = try SinkhornDivergence.compute(source: z, target: y, options: options)
        XCTAssertEqual(loss.value, reference.value, accuracy: 1e-10)
        let worst = try worstError(z, loss.gradient) { try SinkhornDivergence.compute(source: $0, target: y, options: options).value }
        XCTAssertLessThan(worst, 1e-6)
    }

    func testMongeGapGradientMatchesFiniteDifferences() throws {
        var rng = SeededRNG(seed: 8)
        let x: Matrix<Double> = rng.normalMatrix(rows: 6, cols: 3)
        let z = Matrix<Double>(rows: 6, cols: 3) { i, j in x[i, j] * 1.3 + rng.normal() * 0.5 }
        let options = tightOptions
        let loss = try EntropicLosses.mongeGap(reference: x, mapped: z, options: options)
        XCTAssertTrue(loss.converged)
        let worst = try worstError(z, loss.gradient) { try EntropicLosses.mongeGap(reference: x, mapped: $0, options: options).value }
        XCTAssertLessThan(worst, 1e-6)
    }

    func testMongeGapIsSmallerForTheOptimalPairingThanForAShuffledOne() throws {
        // A monotone map (a scaled copy) is optimal for the squared cost; pairing the same
        // image points in another order is not, and the gap must say so.
        var rng = SeededRNG(seed: 9)
        let x: Matrix<Double> = rng.normalMatrix(rows: 64, cols: 2)
        let optimal = Matrix(rows: 64, cols: 2) { i, j in 2 * x[i, j] + 1 }
        let shuffled = optimal.rows(at: (0..<64).map { ($0 * 37) % 64 })
        let options = SinkhornOptions(epsilon: .fixed(0.2), threshold: 1e-6, maxIterations: 50_000)
        let good = try EntropicLosses.mongeGap(reference: x, mapped: optimal, options: options).value
        let bad = try EntropicLosses.mongeGap(reference: x, mapped: shuffled, options: options).value
        print("Monge gap: optimal pairing \(good), shuffled \(bad)")
        XCTAssertLessThan(good, 0.05 * bad)
    }

    /// d = 4, trained in Float: with the gap the map beats mean shift by far; with λ = 0
    /// (Sinkhorn divergence alone, which any pushforward-matching map minimises) it does not.
    func testMongeGapMakesTheLearnedMapCloseToTheOTMap() throws {
        func errors(regularizerStrength: Double) throws -> (learned: Double, meanShift: Double) {
            var rng = SeededRNG(seed: 41)
            let pair = try GaussianPair.random(dimension: 4, rng: &rng)
            var estimator = MongeGapEstimator()
            estimator.hiddenUnits = [64, 64]
            estimator.iterations = 300
            estimator.batchSize = 128
            estimator.learningRate = 1e-2
            estimator.regularizerStrength = regularizerStrength
            return try pair.errors(of: FloatPrecision(base: estimator), rng: &rng)
        }
        let regularised = try errors(regularizerStrength: 1), fittingOnly = try errors(regularizerStrength: 0)
        print("Gaussian d=4: Monge gap MSE \(regularised.learned), without the gap \(fittingOnly.learned), mean shift \(regularised.meanShift)")
        XCTAssertLessThan(regularised.learned, 0.5 * regularised.meanShift)
        XCTAssertLessThan(regularised.learned, 0.5 * fittingOnly.learned)
    }
}
