import NeuralTransport
import Transport

/// ICNN optimal transport (Makkuva et al. 2020) trained as CellOT does; defaults are
/// `ICNNOTEstimator`'s (CellOT's).
public struct ICNNMethod: MethodConfiguration {
    public static let name = "icnn"
    public static let summary = "ICNN optimal transport (Makkuva et al.; CellOT's training)"
    public static var mapType: any TransportMap<Float>.Type { ICNNMap<Float>.self }

    public var iterations = ICNNOTEstimator().iterations
    public var training = ICNNTraining(ICNNOTEstimator())

    public init() {}

    public static var parameters: [MethodParameter<Self>] {
        [.integer("iterations", \.iterations, minimum: 1, "outer iterations")] + ICNNTraining.parameters(\.training)
    }

    public func estimator() -> any MapEstimator {
        var estimator = training.applied(to: ICNNOTEstimator())
        estimator.iterations = iterations
        return estimator
    }
}

/// The network and optimiser settings ICNN-OT and the displacement-sparse ICNN share.
public struct ICNNTraining: Sendable, Equatable, Codable {
    public var innerIterations: Int
    public var batchSize: Int
    public var learningRate: Double
    public var width: Int

    init(_ estimator: ICNNOTEstimator) {
        innerIterations = estimator.innerIterations
        batchSize = estimator.batchSize
        learningRate = estimator.learningRate
        width = estimator.hiddenUnits.first ?? 64
    }

    static func parameters<Config>(_ path: WritableKeyPath<Config, ICNNTraining>) -> [MethodParameter<Config>] {
        [
            .integer("inner_iterations", path.appending(path: \.innerIterations), minimum: 1, "g steps per f step"),
            .integer("batch_size", path.appending(path: \.batchSize), minimum: 1, "minibatch size"),
            .number("learning_rate", path.appending(path: \.learningRate), .positiveNumber, "Adam learning rate"),
            .integer("width", path.appending(path: \.width), minimum: 1, "units of each of the 4 hidden layers"),
        ]
    }

    func applied(to base: ICNNOTEstimator) -> ICNNOTEstimator {
        var estimator = base
        estimator.innerIterations = innerIterations
        estimator.batchSize = batchSize
        estimator.learningRate = learningRate
        estimator.hiddenUnits = Array(repeating: width, count: base.hiddenUnits.count)
        return estimator
    }
}
