import LinearAlgebra

/// A network whose parameters can be read and written as one flat vector, in a fixed order
/// that its gradients share; what `Adam` updates.
public protocol FlatParameters {
    associatedtype Scalar: BLASScalar
    var flatParameters: [Scalar] { get set }
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
        if first.count != parameters.count {
            first = [Double](repeating: 0, count: parameters.count)
            second = first
        }
        beta1Power *= beta1
        beta2Power *= beta2
        let correction1 = 1 - beta1Power, correction2 = 1 - beta2Power
        let (b1, b2, lr, eps) = (beta1, beta2, learningRate, epsilon)
        let count = parameters.count
        // Raw pointers: the loop vectorises (array subscripts kept it scalar, about 8 % of an
        // ICNN-OT training step).
        parameters.withUnsafeMutableBufferPointer { p in
            gradient.withUnsafeBufferPointer { gr in
                first.withUnsafeMutableBufferPointer { m in
                    second.withUnsafeMutableBufferPointer { v in
                        guard let p = p.baseAddress, let gr = gr.baseAddress, let m = m.baseAddress, let v = v.baseAddress else { return }
                        for index in 0..<count {
                            let g = Double(gr[index])
                            let mean = b1 * m[index] + (1 - b1) * g
                            let square = b2 * v[index] + (1 - b2) * g * g
                            m[index] = mean
                            v[index] = square
                            p[index] -= Scalar(lr * (mean / correction1) / ((square / correction2).squareRoot() + eps))
                        }
                    }
                }
            }
        }
    }

    /// One step on every parameter of `network`.
    public mutating func update<Network: FlatParameters>(_ network: inout Network, gradient: [Scalar])
    where Network.Scalar == Scalar {
        var parameters = network.flatParameters
        step(&parameters, gradient: gradient)
        network.flatParameters = parameters
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
