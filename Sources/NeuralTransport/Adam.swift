import LinearAlgebra

/// Adam (Kingma & Ba 2015) over an ICNN's parameters, with bias-corrected moments.
/// CellOT's settings: learning rate 1e-4, β₁ = 0.5, β₂ = 0.9, no weight decay.
public struct Adam<Scalar: BLASScalar>: Sendable {
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    /// β₁ᵗ and β₂ᵗ after t steps, for the bias corrections.
    private var beta1Power = 1.0
    private var beta2Power = 1.0
    private var first: ICNNGradients<Scalar>?
    private var second: ICNNGradients<Scalar>?

    public init(learningRate: Double = 1e-4, beta1: Double = 0.5, beta2: Double = 0.9, epsilon: Double = 1e-8) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// θ ← θ − lr·m̂/(√v̂ + ε) for every parameter of `network`, given the loss gradient.
    public mutating func update(_ network: inout ICNN<Scalar>, gradients: ICNNGradients<Scalar>) {
        beta1Power *= beta1
        beta2Power *= beta2
        var m = first ?? ICNNGradients(zeroLike: network), v = second ?? ICNNGradients(zeroLike: network)
        let correction1 = 1 - beta1Power, correction2 = 1 - beta2Power
        let (b1, b2, lr, eps) = (beta1, beta2, learningRate, epsilon)
        func apply(_ parameter: inout [Scalar], _ gradient: [Scalar], _ m: inout [Scalar], _ v: inout [Scalar]) {
            for index in parameter.indices {
                let g = Double(gradient[index])
                let mean = b1 * Double(m[index]) + (1 - b1) * g
                let square = b2 * Double(v[index]) + (1 - b2) * g * g
                m[index] = Scalar(mean)
                v[index] = Scalar(square)
                parameter[index] -= Scalar(lr * (mean / correction1) / ((square / correction2).squareRoot() + eps))
            }
        }
        func applyMatrix(_ parameter: inout Matrix<Scalar>, _ gradient: Matrix<Scalar>,
                         _ m: inout Matrix<Scalar>, _ v: inout Matrix<Scalar>) {
            var values = parameter.storage, mValues = m.storage, vValues = v.storage
            apply(&values, gradient.storage, &mValues, &vValues)
            parameter = Self.matrix(values, like: parameter)
            m = Self.matrix(mValues, like: m)
            v = Self.matrix(vValues, like: v)
        }
        for k in network.inputWeights.indices {
            applyMatrix(&network.inputWeights[k], gradients.inputWeights[k], &m.inputWeights[k], &v.inputWeights[k])
            apply(&network.biases[k], gradients.biases[k], &m.biases[k], &v.biases[k])
        }
        for k in network.hiddenWeights.indices {
            applyMatrix(&network.hiddenWeights[k], gradients.hiddenWeights[k], &m.hiddenWeights[k], &v.hiddenWeights[k])
        }
        first = m
        second = v
    }

    private static func matrix(_ values: [Scalar], like shape: Matrix<Scalar>) -> Matrix<Scalar> {
        Matrix(rows: shape.rows, cols: shape.cols) { i, j in values[i * shape.cols + j] }
    }
}
