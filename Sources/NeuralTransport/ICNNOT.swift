import LinearAlgebra
import Transport

/// The map of a trained ICNN potential g: T(x) = ∇ₓg(x).
public struct ICNNMap<Scalar: TransportScalar>: TransportMap, Equatable {
    public let g: ICNN<Scalar>
    /// Outer iterations run (training has no convergence test; it always runs them all).
    public let iterations: Int
    public var converged: Bool { true }

    public func transport(_ points: Matrix<Scalar>) throws -> Matrix<Scalar> {
        guard points.cols == g.inputDimension else {
            throw TransportError.dimensionMismatch(source: points.cols, target: g.inputDimension)
        }
        guard points.allFinite else { throw TransportError.nonFinite("query") }
        return g.inputGradients(points)
    }
}

/// ICNN optimal transport as CellOT trains it (Makkuva et al. 2020): two ICNNs f and g; each
/// outer iteration takes `innerIterations` steps on g's loss
/// L_g = E_x[f(∇g(x)) − ⟨x, ∇g(x)⟩] + penalty·Σ‖relu(−W_g)‖_F, then one step on f's loss
/// L_f = E_y[f(y)] − E_x[f(∇g(x))] followed by clamping f's W to ≥ 0. The map is ∇g.
///
/// Defaults are CellOT's (`configs/models/cellot.yaml`): hidden units [64, 64, 64, 64], uniform
/// init in [−0.1, 0.1], Adam with lr 1e-4, β₁ 0.5, β₂ 0.9, 100,000 outer iterations, 10 inner,
/// g's negative-weight penalty 1, and batches of 256 (`dataloader.batch_size`). Minibatches are
/// drawn with replacement from the seeded generator (CellOT cycles shuffled loaders).
public struct ICNNOTEstimator: MapEstimator, Equatable {
    public var hiddenUnits: [Int] = [64, 64, 64, 64]
    public var iterations = 100_000
    public var innerIterations = 10
    public var batchSize = 256
    public var learningRate = 1e-4
    public var beta1 = 0.5
    public var beta2 = 0.9
    public var negativeWeightPenalty = 1.0
    public var initScale = 0.1

    public init() {}

    public func fit(source: Matrix<Float>, target: Matrix<Float>, rng: inout SeededRNG) throws -> any TransportMap<Float> {
        try train(source, target, &rng)
    }

    public func fit(source: Matrix<Double>, target: Matrix<Double>, rng: inout SeededRNG) throws -> any TransportMap<Double> {
        try train(source, target, &rng)
    }

    func train<Scalar: TransportScalar>(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>, _ rng: inout SeededRNG) throws -> ICNNMap<Scalar> {
        guard x.rows > 0, y.rows > 0 else { throw TransportError.emptyCloud(x.rows == 0 ? "source" : "target") }
        guard x.cols == y.cols else { throw TransportError.dimensionMismatch(source: x.cols, target: y.cols) }
        guard x.allFinite, y.allFinite else { throw TransportError.nonFinite(x.allFinite ? "target" : "source") }
        guard iterations >= 1, innerIterations >= 1, batchSize >= 1, !hiddenUnits.isEmpty, hiddenUnits.allSatisfy({ $0 > 0 }) else {
            throw TransportError.invalidParameter("ICNN needs iterations, inner iterations, batch size and hidden units ≥ 1")
        }
        var f = ICNN<Scalar>(inputDimension: x.cols, hiddenUnits: hiddenUnits, initScale: initScale, rng: &rng)
        var g = ICNN<Scalar>(inputDimension: x.cols, hiddenUnits: hiddenUnits, initScale: initScale, rng: &rng)
        f.clampHiddenWeights()
        var fOptimiser = Adam<Scalar>(learningRate: learningRate, beta1: beta1, beta2: beta2)
        var gOptimiser = Adam<Scalar>(learningRate: learningRate, beta1: beta1, beta2: beta2)
        func batch(_ cloud: Matrix<Scalar>) -> Matrix<Scalar> {
            cloud.rows(at: (0..<batchSize).map { _ in rng.bounded(cloud.rows) })
        }
        let weight = Scalar(1) / Scalar(batchSize)
        for _ in 0..<iterations {
            for _ in 0..<innerIterations {
                let source = batch(x)
                let mapped = g.inputGradients(source)
                let pull = f.inputGradients(mapped)
                let direction = Matrix(rows: source.rows, cols: source.cols) { i, j in pull[i, j] - source[i, j] }
                var gradients = g.directionalDerivativeGradients(source, directions: direction,
                                                                 weights: [Scalar](repeating: weight, count: batchSize)).parameters
                addPenaltyGradient(of: g, to: &gradients)
                gOptimiser.update(&g, gradients: gradients)
            }
            let target = batch(y), mapped = g.inputGradients(batch(x))
            let onTarget = f.parameterGradients(target, weights: [Scalar](repeating: weight, count: batchSize))
            let onMapped = f.parameterGradients(mapped, weights: [Scalar](repeating: -weight, count: batchSize))
            fOptimiser.update(&f, gradients: onTarget.adding(onMapped))
            f.clampHiddenWeights()
        }
        return ICNNMap(g: g, iterations: iterations)
    }

    /// Adds the gradient of penalty·Σ_k ‖relu(−W_k)‖_F: penalty·W_ij/‖relu(−W_k)‖ where W_ij < 0.
    private func addPenaltyGradient<Scalar: TransportScalar>(of g: ICNN<Scalar>, to gradients: inout ICNNGradients<Scalar>) {
        guard negativeWeightPenalty > 0 else { return }
        for (k, w) in g.hiddenWeights.enumerated() {
            let norm = w.storage.reduce(Scalar(0)) { $0 + ($1 < 0 ? $1 * $1 : 0) }.squareRoot()
            guard norm > 0 else { continue }
            let scale = Scalar(negativeWeightPenalty) / norm
            let current = gradients.hiddenWeights[k]
            gradients.hiddenWeights[k] = Matrix(rows: w.rows, cols: w.cols) { i, j in
                current[i, j] + (w[i, j] < 0 ? scale * w[i, j] : 0)
            }
        }
    }
}

extension ICNNGradients {
    /// The element-wise sum of two gradients of the same network.
    func adding(_ other: ICNNGradients) -> ICNNGradients {
        var sum = self
        for k in sum.inputWeights.indices {
            let (a, b) = (sum.inputWeights[k], other.inputWeights[k])
            sum.inputWeights[k] = Matrix(rows: a.rows, cols: a.cols) { i, j in a[i, j] + b[i, j] }
            sum.biases[k] = zip(sum.biases[k], other.biases[k]).map { $0 + $1 }
        }
        for k in sum.hiddenWeights.indices {
            let (a, b) = (sum.hiddenWeights[k], other.hiddenWeights[k])
            sum.hiddenWeights[k] = Matrix(rows: a.rows, cols: a.cols) { i, j in a[i, j] + b[i, j] }
        }
        return sum
    }
}
