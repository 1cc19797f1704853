import Foundation
import LinearAlgebra

/// A map T(x) = x + MLP(x), as OTT-JAX's `PotentialMLP(is_potential=False)` that its Monge gap
/// estimator trains: dense layers h_k = W_k z_{k−1} + b_k, z_k = σ(h_k) with σ the leaky ReLU
/// of slope 0.01 (flax's `nn.leaky_relu` default), and a last dense layer back to the input
/// dimension added to x. Weights are drawn N(0, 1/fan_in) (LeCun normal, flax's `Dense`
/// default, without its truncation), biases 0.
public struct ResidualMLP<Scalar: BLASScalar>: Sendable, Codable, Equatable, FlatParameters {
    public static var negativeSlope: Scalar { 0.01 }

    public let inputDimension: Int
    public let hiddenUnits: [Int]
    /// W_k, units[k+1] × units[k], with units = [d] + hiddenUnits + [d].
    public var weights: [Matrix<Scalar>]
    public var biases: [[Scalar]]

    public init(inputDimension: Int, hiddenUnits: [Int] = [128, 64, 64], rng: inout SeededRNG) {
        precondition(inputDimension > 0 && hiddenUnits.allSatisfy { $0 > 0 })
        self.inputDimension = inputDimension
        self.hiddenUnits = hiddenUnits
        let units = [inputDimension] + hiddenUnits + [inputDimension]
        weights = zip(units.dropLast(), units.dropFirst()).map { fanIn, fanOut in
            let scale = 1 / Double(fanIn).squareRoot()
            return Matrix(rows: fanOut, cols: fanIn) { _, _ in Scalar(scale * rng.normal()) }
        }
        biases = units.dropFirst().map { [Scalar](repeating: 0, count: $0) }
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

    /// T(x) for each row of `x`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ x: Matrix<Scalar>) -> Matrix<Scalar> {
        forward(x).output
    }

    /// The gradient, in `flatParameters` order, of a loss whose gradient with respect to the
    /// outputs T(x) is `outputGradient` (n × d).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func parameterGradients(_ x: Matrix<Scalar>, outputGradient: Matrix<Scalar>) -> [Scalar] {
        precondition(outputGradient.rows == x.rows && outputGradient.cols == inputDimension)
        let trace = forward(x)
        var layers = [(weights: [Scalar], biases: [Scalar])](repeating: ([], []), count: weights.count)
        var delta = outputGradient  // ∂L/∂h_k, starting at the last layer (T = x + h_last)
        for k in stride(from: weights.count - 1, through: 0, by: -1) {
            let input = k == 0 ? x : trace.activations[k - 1]
            layers[k] = (delta.multiplied(by: input, transposeSelf: true).storage, delta.columnSums())
            if k > 0 {
                let upstream = delta.multiplied(by: weights[k])
                let h = trace.preActivations[k - 1]
                delta = upstream.combined(with: h) { u, h in h > 0 ? u : u * Self.negativeSlope }
            }
        }
        return layers.flatMap { $0.weights + $0.biases }
    }

    struct Trace {
        var preActivations: [Matrix<Scalar>] = []
        var activations: [Matrix<Scalar>] = []
        var output = Matrix<Scalar>(rows: 0, cols: 0)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func forward(_ x: Matrix<Scalar>) -> Trace {
        precondition(x.cols == inputDimension, "MLP input has \(x.cols) columns, expected \(inputDimension)")
        var trace = Trace()
        var z = x
        for k in weights.indices {
            let product = z.multiplied(by: weights[k], transposeOther: true)
            let h = product.addingToEachRow(biases[k])
            if k == weights.count - 1 {
                trace.output = x + h
            } else {
                z = h.map { $0 > 0 ? $0 : Self.negativeSlope * $0 }
                trace.preActivations.append(h)
                trace.activations.append(z)
            }
        }
        return trace
    }
}
