import Foundation
import LinearAlgebra
import NeuralTransport
import XCTest

/// The hand-written ICNN passes against central finite differences (Double), and convexity.
final class ICNNTests: XCTestCase {
    private func network(seed: UInt64, scale: Double = 0.5) -> ICNN<Double> {
        var rng = SeededRNG(seed: seed)
        // A larger init scale than CellOT's 0.1 so every layer contributes visibly.
        return ICNN(inputDimension: 3, hiddenUnits: [5, 4, 3], initScale: scale, rng: &rng)
    }

    private func points(_ n: Int, seed: UInt64) -> Matrix<Double> {
        var rng = SeededRNG(seed: seed)
        return rng.normalMatrix(rows: n, cols: 3)
    }

    private func relativeError(_ a: Double, _ b: Double) -> Double {
        abs(a - b) / max(1e-8, abs(a) + abs(b))
    }

    /// The largest relative error between `analytic` and central differences of `objective`
    /// over every parameter of `network`.
    private func worstParameterError(
        _ network: ICNN<Double>, _ analytic: ICNNGradients<Double>, _ objective: (ICNN<Double>) -> Double
    ) -> Double {
        var g = network
        let h = 1e-6
        var worst = 0.0
        func check(_ get: (ICNN<Double>) -> Double, _ set: (inout ICNN<Double>, Double) -> Void, _ expected: Double) {
            let original = get(g)
            set(&g, original + h)
            let up = objective(g)
            set(&g, original - h)
            let down = objective(g)
            set(&g, original)
            let numeric = (up - down) / (2 * h)
            worst = max(worst, abs(expected - numeric) / max(1e-6, abs(expected) + abs(numeric)))
        }
        for k in g.inputWeights.indices {
            let shape = g.inputWeights[k].shape
            for r in 0..<shape.rows {
                for c in 0..<shape.cols {
                    check({ $0.inputWeights[k][r, c] }, { $0.inputWeights[k][r, c] = $1 }, analytic.inputWeights[k][r, c])
                }
                check({ $0.biases[k][r] }, { $0.biases[k][r] = $1 }, analytic.biases[k][r])
            }
        }
        for k in g.hiddenWeights.indices {
            let shape = g.hiddenWeights[k].shape
            for r in 0..<shape.rows {
                for c in 0..<shape.cols {
                    check({ $0.hiddenWeights[k][r, c] }, { $0.hiddenWeights[k][r, c] = $1 }, analytic.hiddenWeights[k][r, c])
                }
            }
        }
        return worst
    }

    func testInputGradientMatchesFiniteDifferences() {
        let g = network(seed: 1), x = points(6, seed: 2)
        let analytic = g.inputGradients(x)
        let h = 1e-6
        var worst = 0.0
        for i in 0..<x.rows {
            for j in 0..<x.cols {
                var plus = x, minus = x
                plus[i, j] += h
                minus[i, j] -= h
                let numeric = (g.values(plus)[i] - g.values(minus)[i]) / (2 * h)
                worst = max(worst, relativeError(analytic[i, j], numeric))
            }
        }
        XCTAssertLessThan(worst, 1e-6)
    }

    func testParameterGradientsMatchFiniteDifferences() {
        let g = network(seed: 3)
        let x = points(5, seed: 4), weights = [0.3, -1.2, 0.7, 2.0, -0.4]
        let analytic = g.parameterGradients(x, weights: weights)
        let worst = worstParameterError(g, analytic) { network in
            zip(network.values(x), weights).reduce(0) { $0 + $1.0 * $1.1 }
        }
        XCTAssertLessThan(worst, 1e-6)
    }

    func testDirectionalDerivativeAndItsParameterGradientsMatchFiniteDifferences() {
        let g = network(seed: 9)
        let x = points(4, seed: 10), v = points(4, seed: 11), weights = [1.0, -0.5, 0.8, 0.3]
        let (values, analytic) = g.directionalDerivativeGradients(x, directions: v, weights: weights)
        let gradient = g.inputGradients(x)
        for i in 0..<x.rows {
            let expected = (0..<3).reduce(0.0) { $0 + v[i, $1] * gradient[i, $1] }
            XCTAssertEqual(values[i], expected, accuracy: 1e-12)
        }
        // Σ w_i ⟨v_i, ∇g(x_i)⟩ through the (already checked) input gradient, differentiated numerically.
        func objective(_ network: ICNN<Double>) -> Double {
            let grad = network.inputGradients(x)
            return (0..<x.rows).reduce(0.0) { total, i in total + weights[i] * (0..<3).reduce(0.0) { $0 + v[i, $1] * grad[i, $1] } }
        }
        let worst = worstParameterError(g, analytic, objective)
        XCTAssertLessThan(worst, 1e-6)
        // Only the squared first layer passes gradient to a bias.
        XCTAssertTrue(analytic.biases.dropFirst().allSatisfy { $0.allSatisfy { $0 == 0 } })
        XCTAssertTrue(analytic.biases[0].contains { $0 != 0 })
    }

    func testClampedNetworkIsConvexAlongRandomSegments() {
        var g = network(seed: 5)
        XCTAssertTrue(g.hiddenWeights.contains { $0.storage.contains { $0 < 0 } })
        XCTAssertGreaterThan(g.negativeWeightPenalty(), 0)
        g.clampHiddenWeights()
        XCTAssertTrue(g.hiddenWeights.allSatisfy { $0.storage.allSatisfy { $0 >= 0 } })
        XCTAssertEqual(g.negativeWeightPenalty(), 0)
        let a = points(50, seed: 6), b = points(50, seed: 7)
        let ga = g.values(a), gb = g.values(b)
        for t in stride(from: 0.0, through: 1.0, by: 0.1) {
            let mixed = Matrix(rows: a.rows, cols: a.cols) { i, j in t * a[i, j] + (1 - t) * b[i, j] }
            for (i, value) in g.values(mixed).enumerated() {
                XCTAssertLessThanOrEqual(value, t * ga[i] + (1 - t) * gb[i] + 1e-12)
            }
        }
    }

    func testCellOTDefaults() {
        var rng = SeededRNG(seed: 8)
        let g = ICNN<Float>(inputDimension: 16, rng: &rng)
        XCTAssertEqual(g.hiddenUnits, [64, 64, 64, 64])
        XCTAssertEqual(g.inputWeights.map(\.rows), [64, 64, 64, 64, 1])
        XCTAssertEqual(g.hiddenWeights.map { [$0.rows, $0.cols] }, [[64, 64], [64, 64], [64, 64], [1, 64]])
        XCTAssertTrue(g.inputWeights.allSatisfy { $0.storage.allSatisfy { abs($0) <= 0.1 } })
        XCTAssertTrue(g.biases.allSatisfy { $0.allSatisfy { $0 == 0 } })
    }
}
