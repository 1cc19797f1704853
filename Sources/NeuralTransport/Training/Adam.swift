import CNeuralKernels
import LinearAlgebra

/// A network whose parameters can be read and written as one flat vector, in a fixed order
/// that its gradients share; what `Adam` updates.
public protocol FlatParameters {
    associatedtype Scalar: BLASScalar
    var flatParameters: [Scalar] { get set }
    /// Calls `body` on the storage of each parameter block (a weight matrix, a bias vector) in
    /// `flatParameters` order, so that an optimiser can update them in place.
    mutating func updateParameterBlocks(_ body: (UnsafeMutableBufferPointer<Scalar>) -> Void)
}

extension FlatParameters {
    /// Through a flat copy, for networks that do not expose their blocks.
    public mutating func updateParameterBlocks(_ body: (UnsafeMutableBufferPointer<Scalar>) -> Void) {
        var parameters = flatParameters
        parameters.withUnsafeMutableBufferPointer { body($0) }
        flatParameters = parameters
    }
}

/// Adam (Kingma & Ba 2015) with bias-corrected moments, over a flat parameter vector.
/// CellOT's settings are the defaults: learning rate 1e-4, β₁ = 0.5, β₂ = 0.9, no weight decay.
public struct Adam<Scalar: BLASScalar>: Sendable {
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    /// β₁ᵗ and β₂ᵗ after t steps, for the bias corrections.
    private var beta1Power = 1.0
    private var beta2Power = 1.0
    private var first: [Double] = []
    private var second: [Double] = []

    public init(learningRate: Double = 1e-4, beta1: Double = 0.5, beta2: Double = 0.9, epsilon: Double = 1e-8) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// θ ← θ − lr·m̂/(√v̂ + ε), given the loss gradient in the same order as `parameters`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ parameters: inout [Scalar], gradient: [Scalar]) {
        precondition(parameters.count == gradient.count, "gradient and parameters differ in size")
        let corrections = beginStep(count: parameters.count)
        parameters.withUnsafeMutableBufferPointer { block in
            gradient.withUnsafeBufferPointer { gradient in
                apply(block, gradient: gradient, offset: 0, corrections)
            }
        }
    }

    /// One step on every parameter of `network`, updated in place block by block.
    @_specialize(where Scalar == Float, Network == ICNN<Float>)
    @_specialize(where Scalar == Double, Network == ICNN<Double>)
    public mutating func update<Network: FlatParameters>(_ network: inout Network, gradient: [Scalar])
    where Network.Scalar == Scalar {
        let corrections = beginStep(count: gradient.count)
        var offset = 0
        gradient.withUnsafeBufferPointer { gradient in
            network.updateParameterBlocks { block in
                precondition(offset + block.count <= gradient.count, "gradient and parameters differ in size")
                apply(block, gradient: gradient, offset: offset, corrections)
                offset += block.count
            }
        }
        precondition(offset == gradient.count, "gradient and parameters differ in size")
    }

    /// Advances t; returns the bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ.
    private mutating func beginStep(count: Int) -> (Double, Double) {
        if first.count != count {
            first = [Double](repeating: 0, count: count)
            second = first
        }
        beta1Power *= beta1
        beta2Power *= beta2
        return (1 - beta1Power, 1 - beta2Power)
    }

    /// The update of parameters [offset, offset + block.count) through the C kernel (vector
    /// units chosen at load; the same arithmetic as `referenceStep`, to the bit).
    private mutating func apply(
        _ block: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>, offset: Int,
        _ corrections: (Double, Double)
    ) {
        guard let p = block.baseAddress, let g = gradient.baseAddress else { return }
        let (b1, b2, lr, eps) = (beta1, beta2, learningRate, epsilon)
        let count = block.count
        first.withUnsafeMutableBufferPointer { m in
            second.withUnsafeMutableBufferPointer { v in
                guard let m = m.baseAddress, let v = v.baseAddress else { return }
                if Scalar.self == Float.self {
                    perturbot_adam_step_f32(p.typed(Float.self), (g + offset).typed(Float.self),
                                            m + offset, v + offset, count, b1, b2, lr, corrections.0, corrections.1, eps)
                } else if Scalar.self == Double.self {
                    perturbot_adam_step_f64(p.typed(Double.self), (g + offset).typed(Double.self),
                                            m + offset, v + offset, count, b1, b2, lr, corrections.0, corrections.1, eps)
                } else {
                    Self.referenceStep(p, g + offset, m + offset, v + offset, count: count,
                                       beta1: b1, beta2: b2, learningRate: lr, corrections: corrections, epsilon: eps)
                }
            }
        }
    }

    /// The Adam update in Swift: the definition the C kernel follows (and the tests compare it to).
    static func referenceStep(
        _ p: UnsafeMutablePointer<Scalar>, _ gr: UnsafePointer<Scalar>, _ m: UnsafeMutablePointer<Double>,
        _ v: UnsafeMutablePointer<Double>, count: Int, beta1 b1: Double, beta2 b2: Double, learningRate lr: Double,
        corrections: (Double, Double), epsilon eps: Double
    ) {
        for index in 0..<count {
            let g = Double(gr[index])
            let mean = b1 * m[index] + (1 - b1) * g
            let square = b2 * v[index] + (1 - b2) * g * g
            m[index] = mean
            v[index] = square
            p[index] -= Scalar(lr * (mean / corrections.0) / ((square / corrections.1).squareRoot() + eps))
        }
    }
}

/// Reads a flat parameter vector back into matrices and vectors, in order.
struct FlatParameterReader<Scalar: BLASScalar> {
    private let values: [Scalar]
    private var offset = 0

    init(_ values: [Scalar]) { self.values = values }

    /// The next `shape.rows × shape.cols` values, row-major, as a matrix of that shape.
    mutating func matrix(like shape: Matrix<Scalar>) -> Matrix<Scalar> {
        let start = offset, cols = shape.cols
        offset += shape.rows * cols
        return Matrix(rows: shape.rows, cols: cols) { i, j in values[start + i * cols + j] }
    }

    /// The next `count` values.
    mutating func vector(count: Int) -> [Scalar] {
        defer { offset += count }
        return Array(values[offset..<(offset + count)])
    }
}
