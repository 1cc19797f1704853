import NeuralTransport
import Transport

/// The displacement-sparse ICNN (Chen, Xie & Zhang 2025): ICNN-OT with λ·τ(T(x) − x) in g's
/// loss, λ annealed or raised until a dimension threshold is met. Defaults are
/// `SparseICNNEstimator`'s (the authors' code's).
public struct SparseICNNMethod: MethodConfiguration {
    public static let name = "sparse_icnn"
    public static let summary = "displacement-sparse ICNN (Chen, Xie & Zhang 2025): λ·τ(T(x) − x) in g's loss, λ annealed or set by a dimension threshold"
    public static var mapType: any TransportMap<Float>.Type { SparseICNNMap<Float>.self }
    /// `--iterations` on the command line sets the iterations at the initial λ.
    public static var aliases: [String: String] { ["iterations": "init_iterations"] }

    /// The displacement penalty τ, with its width `penaltyWidth`.
    public enum Penalty: String, Sendable, Codable, CaseIterable {
        case smoothed_l0, l1, stvs
    }

    public var training = ICNNTraining(SparseICNNEstimator().training)
    public var penalty = Penalty.smoothed_l0
    public var penaltyWidth = 1.0
    public var lambda = SparseICNNEstimator().initialLambda
    public var initIterations = SparseICNNEstimator().initIterations
    public var adjustIterations: Int?
    public var smoothIterations: Int?
    public var beta = SparseICNNEstimator().beta
    public var decay = SparseICNNEstimator().annealing.decay
    public var dimensionThreshold: Double?
    public var movedTolerance = SparseICNNEstimator().movedTolerance

    public init() {}

    public static var parameters: [MethodParameter<Self>] {
        ICNNTraining.parameters(\.training) + [
            .choice("penalty", \.penalty, "τ"),
            .number("penalty_width", \.penaltyWidth, .positiveNumber, "σ of smoothed_l0 or γ of stvs"),
            .number("lambda", \.lambda, .positiveNumber, "initial λ"),
            .integer("init_iterations", \.initIterations, minimum: 1, "outer iterations at the initial λ"),
            .integer("adjust_iterations", \.adjustIterations, minimum: 1, unset: "init_iterations / 10",
                     "outer iterations after each λ proposal"),
            .integer("smooth_iterations", \.smoothIterations, minimum: 0, unset: "init_iterations / 10",
                     "outer iterations back at the kept λ after a rejection"),
            .number("beta", \.beta, .nonNegativeNumber, "weight of the normalised sparsity in Eval"),
            .number("decay", \.decay, .fraction, "temperature decay per proposal, from 1 to 0.15"),
            .number("dimension_threshold", \.dimensionThreshold, .nonNegativeNumber, unset: "annealing",
                    "high-dimensional mode: keep the mean number of moved coordinates ≤ this"),
            .number("moved_tolerance", \.movedTolerance, .positiveNumber, "|T(x) − x|ᵢ above this counts as moved"),
        ]
    }

    public func estimator() -> any MapEstimator {
        var estimator = SparseICNNEstimator()
        estimator.training = training.applied(to: estimator.training)
        switch penalty {
        case .smoothed_l0: estimator.penalty = .smoothedL0(sigma: penaltyWidth)
        case .l1: estimator.penalty = .l1
        case .stvs: estimator.penalty = .stvs(gamma: penaltyWidth)
        }
        estimator.initialLambda = lambda
        estimator.initIterations = initIterations
        let tenth = Swift.max(1, initIterations / 10)
        estimator.adjustIterations = adjustIterations ?? tenth
        estimator.smoothIterations = smoothIterations ?? tenth
        estimator.beta = beta
        estimator.annealing.decay = decay
        if let dimensionThreshold { estimator.mode = .dimensionThreshold(dimensionThreshold) }
        estimator.movedTolerance = movedTolerance
        return estimator
    }
}
