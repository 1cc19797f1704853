import Foundation
import LinearAlgebra

/// A scalar potential f(y) given by a plain MLP, the network of the energy-guided EOT paper
/// (Mokrov et al. 2024; their toy uses 2 → 256 → 256 → 256 → 1 with LeakyReLU(0.2), their
/// Gaussian benchmark D → 512 → 512 → 512 → 1 with ReLU):
///
///     z₀ = y,   h_k = W_k z_{k−1} + b_k,   z_k = σ(h_k)  (k = 1 … L−1),   f(y) = W_L z_{L−1} + b_L
///
/// with σ the leaky ReLU of slope `negativeSlope` (0 gives ReLU). Its passes are written by
/// hand on BLAS: the values, ∇_y f (what Langevin sampling needs) and the parameter gradient of
/// Σ_i w_i f(y_i) with its value (what the training loss needs). σ is piecewise linear, so ∇_y f has no
/// second-order terms to carry. Weights and biases are drawn as PyTorch's `nn.Linear` does
/// (uniform in ±1/√fan_in), so the authors' learning rates keep their meaning.
public struct PotentialMLP<Scalar: BLASScalar>: Sendable, Codable, Equatable, FlatParameters {
    public let inputDimension: Int
    public let hiddenUnits: [Int]
    public let negativeSlope: Double
    /// W_k, units[k+1] × units[k], with units = [d] + hiddenUnits + [1].
    public var weights: [Matrix<Scalar>]
    public var biases: [[Scalar]]

    public init(inputDimension: Int, hiddenUnits: [Int] = [256, 256, 256], negativeSlope: Double = 0.2,
                rng: inout SeededRNG) {
        precondition(inputDimension > 0 && !hiddenUnits.isEmpty && hiddenUnits.allSatisfy { $0 > 0 })
        precondition(negativeSlope >= 0 && negativeSlope < 1)
        self.inputDimension = inputDimension
        self.hiddenUnits = hiddenUnits
        self.negativeSlope = negativeSlope
        let units = [inputDimension] + hiddenUnits + [1]
        var weights: [Matrix<Scalar>] = []
        var biases: [[Scalar]] = []
        for (fanIn, fanOut) in zip(units.dropLast(), units.dropFirst()) {
            let bound = 1 / Double(fanIn).squareRoot()
            weights.append(Matrix(rows: fanOut, cols: fanIn) { _, _ in Scalar(rng.uniform(in: -bound..<bound)) })
            biases.append((0..<fanOut).map { _ in Scalar(rng.uniform(in: -bound..<bound)) })
        }
        self.weights = weights
        self.biases = biases
    }

    /// Every W_k then b_k, layer by layer: the order of `parameterGradients`.
    public mutating func updateParameterBlocks(_ body: (UnsafeMutableBufferPointer<Scalar>) -> Void) {
        for k in weights.indices {
            weights[k].withUnsafeMutableBufferPointer { body($0) }
            biases[k].withUnsafeMutableBufferPointer { body($0) }
        }
    }

    public var flatParameters: [Scalar] {
        get { zip(weights, biases).flatMap { $0.storage + $1 } }
        set {
            var reader = FlatParameterReader(newValue)
            for k in weights.indices {
                weights[k] = reader.matrix(like: weights[k])
                biases[k] = reader.vector(count: biases[k].count)
            }
        }
    }

    public var parameterCount: Int { zip(weights, biases).reduce(0) { $0 + $1.0.storage.count + $1.1.count } }

    /// f(y) for each row of `y`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func values(_ y: Matrix<Scalar>) -> [Scalar] {
        forward(y).output.storage
    }

    /// ∇_y f(y) for each row of `y` (n × d).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func inputGradients(_ y: Matrix<Scalar>) -> Matrix<Scalar> {
        let trace = forward(y)
        let last = weights.count - 1
        // ∂f/∂z_{L−1} is the row W_L for every point; then back through each σ and W_k.
        var delta = Matrix(rows: y.rows, cols: weights[last].cols) { _, j in weights[last][0, j] }
        for k in stride(from: last - 1, through: 0, by: -1) {
            delta = activationBackward(delta, preActivation: trace.preActivations[k])
            delta = delta.multiplied(by: weights[k])
        }
        return delta
    }

    /// The weighted sum Σ_i weights[i]·f(y_i) and its gradient, in `flatParameters` order.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func weightedSum(_ y: Matrix<Scalar>, weights rowWeights: [Scalar]) -> (value: Double, gradient: [Scalar]) {
        precondition(rowWeights.count == y.rows, "\(rowWeights.count) weights for \(y.rows) points")
        let trace = forward(y)
        let value = zip(trace.output.storage, rowWeights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        var layers = [[Scalar]](repeating: [], count: weights.count)
        var delta = Matrix(rows: y.rows, cols: 1) { i, _ in rowWeights[i] }  // ∂/∂h_L, n × 1
        for k in stride(from: weights.count - 1, through: 0, by: -1) {
            let input = k == 0 ? y : trace.activations[k - 1]
            layers[k] = delta.multiplied(by: input, transposeSelf: true).storage + delta.columnSums()
            if k > 0 {
                delta = activationBackward(delta.multiplied(by: weights[k]), preActivation: trace.preActivations[k - 1])
            }
        }
        return (value, layers.flatMap { $0 })
    }

    struct Trace {
        var preActivations: [Matrix<Scalar>] = []
        var activations: [Matrix<Scalar>] = []
        var output = Matrix<Scalar>(rows: 0, cols: 0)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func forward(_ y: Matrix<Scalar>) -> Trace {
        precondition(y.cols == inputDimension, "potential input has \(y.cols) columns, expected \(inputDimension)")
        let slope = Scalar(negativeSlope)
        var trace = Trace()
        var z = y
        for k in weights.indices {
            var h = z.multiplied(by: weights[k], transposeOther: true)
            h.addToEachRow(biases[k])
            if k == weights.count - 1 {
                trace.output = h
            } else {
                z = h.map { $0 > 0 ? $0 : slope * $0 }
                trace.preActivations.append(h)
                trace.activations.append(z)
            }
        }
        return trace
    }

    private func activationBackward(_ upstream: Matrix<Scalar>, preActivation h: Matrix<Scalar>) -> Matrix<Scalar> {
        let slope = Scalar(negativeSlope)
        return upstream.combined(with: h) { u, h in h > 0 ? u : u * slope }
    }
}
