import NeuralTransport
import Transport

/// Energy-guided entropic neural OT (Mokrov et al., ICLR 2024): an energy network whose Gibbs
/// conditionals π(· | x) are sampled by Langevin dynamics, a stochastic map. Defaults are
/// `EnergyGuidedOTEstimator`'s (the authors').
public struct EGNOTMethod: MethodConfiguration {
    public static let name = "egnot"
    public static let summary = "energy-guided entropic neural OT (Mokrov et al. 2024): a stochastic map, y ~ π(· | x) drawn by Langevin sampling"
    public static var mapType: any TransportMap<Float>.Type { EnergyGuidedMap<Float>.self }
    public static var stochastic: Bool { true }

    public var epsilon = Epsilon.auto
    public var stepSize = EnergyGuidedOTEstimator().stepSize
    public var noise = EnergyGuidedOTEstimator().noise
    public var langevinSteps = EnergyGuidedOTEstimator().trainingSteps
    public var testLangevinSteps = EnergyGuidedOTEstimator().testSteps
    public var iterations = EnergyGuidedOTEstimator().iterations
    public var batchSize = EnergyGuidedOTEstimator().batchSize
    public var hidden = EnergyGuidedOTEstimator().hiddenUnits.first ?? 256
    public var layers = EnergyGuidedOTEstimator().hiddenUnits.count
    public var learningRate = EnergyGuidedOTEstimator().learningRate
    public var chainStart = EnergyGuidedOTEstimator().chainStart

    public init() {}

    public static var parameters: [MethodParameter<Self>] {
        [
            .epsilon(\.epsilon, accepting: [.auto],
                     "ε for the cost ½‖x − y‖² (eot's plan at 2ε): auto (0.05 × std of ½‖x − y‖²) or a number"),
            .number("step_size", \.stepSize, .positiveNumber, unset: "ε/10", "Langevin step η, below 2ε"),
            .number("noise", \.noise, .positiveNumber, unset: "√η",
                    "std of each Langevin step's noise (another value than √η samples the plan of ε·noise²/η)"),
            .integer("langevin_steps", \.langevinSteps, minimum: 1, "Langevin steps per training batch"),
            .integer("test_langevin_steps", \.testLangevinSteps, minimum: 1, "Langevin steps to sample the fitted map"),
            .integer("iterations", \.iterations, minimum: 1, "training steps"),
            .integer("batch_size", \.batchSize, minimum: 1, "minibatch size"),
            .integer("hidden", \.hidden, minimum: 1, "units of each hidden layer"),
            .integer("layers", \.layers, minimum: 1, "hidden layers"),
            .number("learning_rate", \.learningRate, .positiveNumber, "Adam learning rate (β 0.2, 0.99)"),
            .choice("chain_start", \.chainStart, "where new chains begin: noise (N(0, I), the paper) or source (at their x)"),
        ]
    }

    public func problem() -> String? {
        guard let stepSize, case .value(let epsilon) = epsilon, stepSize >= 2 * epsilon else { return nil }
        return "'step_size' must be below 2·epsilon = \(2 * epsilon) (each Langevin step pulls a chain η/(2ε) of the way to its source point), got \(stepSize)"
    }

    public func estimator() -> any MapEstimator {
        var estimator = EnergyGuidedOTEstimator()
        estimator.epsilon = epsilon.choice
        estimator.stepSize = stepSize
        estimator.noise = noise
        estimator.trainingSteps = langevinSteps
        estimator.testSteps = testLangevinSteps
        estimator.iterations = iterations
        estimator.batchSize = batchSize
        estimator.hiddenUnits = Array(repeating: hidden, count: layers)
        estimator.learningRate = learningRate
        estimator.chainStart = chainStart
        return estimator
    }
}
