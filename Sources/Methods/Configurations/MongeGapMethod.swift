import NeuralTransport
import Transport

/// An MLP map trained on the Sinkhorn divergence plus λ × the Monge gap (Uscidda & Cuturi,
/// ICML 2023); defaults are `MongeGapEstimator`'s (OTT-JAX's).
public struct MongeGapMethod: MethodConfiguration {
    public static let name = "monge_gap"
    public static let summary = "MLP map trained on Sinkhorn divergence + λ·Monge gap (Uscidda & Cuturi; OTT-JAX's defaults)"
    public static var mapType: any TransportMap<Float>.Type { MongeGapMap<Float>.self }
    /// 1: entropic plans in the training precision through the row kernels.
    public static var revision: Int { 1 }

    public var iterations = MongeGapEstimator().iterations
    public var batchSize = MongeGapEstimator().batchSize
    public var learningRate = MongeGapEstimator().learningRate
    public var regularizerStrength = MongeGapEstimator().regularizerStrength
    public var epsilon = Epsilon.auto
    /// The hidden layers are [2w, w, w].
    public var width = MongeGapEstimator().hiddenUnits.last ?? 64
    public var maxIterations = MongeGapEstimator().sinkhornMaxIterations

    public init() {}

    public static var parameters: [MethodParameter<Self>] {
        [
            .integer("iterations", \.iterations, minimum: 1, "training steps"),
            .integer("batch_size", \.batchSize, minimum: 2, "minibatch size"),
            .number("learning_rate", \.learningRate, .positiveNumber, "Adam learning rate"),
            .number("regularizer_strength", \.regularizerStrength, .nonNegativeNumber, "λ of the Monge gap"),
            .epsilon(\.epsilon, accepting: [.auto], "ε of every Sinkhorn solve: auto (OTT's default per batch) or a number"),
            .integer("width", \.width, minimum: 1, "scales the hidden layers [2w, w, w]"),
            .integer("max_iterations", \.maxIterations, minimum: 1, "Sinkhorn iteration limit per solve"),
        ]
    }

    public func estimator() -> any MapEstimator {
        var estimator = MongeGapEstimator()
        estimator.iterations = iterations
        estimator.batchSize = batchSize
        estimator.learningRate = learningRate
        estimator.regularizerStrength = regularizerStrength
        estimator.epsilon = epsilon.choice
        estimator.hiddenUnits = [2 * width, width, width]
        estimator.sinkhornMaxIterations = maxIterations
        return estimator
    }
}
