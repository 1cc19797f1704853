import Transport

/// Monge–Bregman–Occam maps (Cuturi, Klein & Ablin, ICML 2023, eq. 7): the entropic map of the
/// elastic cost ½‖·‖² + λτ, whose displacements are sparse. Defaults are `MBOEstimator`'s
/// (OTT-JAX's λ = 1, γ = 1; ε tuned as eot's).
public struct MBOMethod: MethodConfiguration {
    public static let name = "mbo"
    public static let summary = "entropic map of an elastic cost ½‖·‖² + λτ, sparse displacements (Cuturi, Klein & Ablin 2023)"
    public static var mapType: any TransportMap<Float>.Type { EntropicMap<Float>.self }

    public var penalty = MBOEstimator().penalty
    public var lambda = MBOEstimator().lambda
    public var gamma = MBOEstimator().gamma
    public var epsilon = Epsilon.tuned
    public var heldOutFraction = EpsilonTuning().heldOutFraction
    public var sinkhorn = SinkhornSettings()

    public init() {}

    public static var parameters: [MethodParameter<Self>] {
        [
            .choice("penalty", \.penalty, "τ: l1 (soft thresholding at λ) or stvs (threshold λγ)"),
            .number("lambda", \.lambda, .nonNegativeNumber, "λ, the weight of τ (at most 2 for stvs)"),
            .number("gamma", \.gamma, .positiveNumber, "stvs: γ"),
            .epsilon(\.epsilon, accepting: [.tuned, .auto],
                     "tuned on held-out target points (as eot), auto (OTT's default for the elastic cost) or a number"),
            .number("held_out_fraction", \.heldOutFraction, .fraction, "target fraction held out to tune ε"),
        ] + MethodParameter.sinkhorn(\.sinkhorn)
    }

    public var groundCost: GroundCost? { estimatorValue.cost }

    /// The elastic costs are this method's penalty: --cost elastic_l1 / elastic_stvs set it.
    public static func assignments(forCost cost: GroundCost) -> [(String, ParameterValue)]? {
        switch cost {
        case .elasticL1(let lambda): return [("penalty", .text("l1")), ("lambda", .number(lambda))]
        case .elasticSTVS(let lambda, let gamma):
            return [("penalty", .text("stvs")), ("lambda", .number(lambda)), ("gamma", .number(gamma))]
        default: return nil
        }
    }

    public func problem() -> String? {
        if penalty == .stvs, lambda > GroundCost.maximumSTVSLambda {
            return "'lambda' must be at most 2 with penalty stvs (½‖z‖² + λ·STVS_γ is not convex beyond; the threshold is λγ, so raise 'gamma'), got \(lambda)"
        }
        return sinkhorn.problem()
    }

    public func estimator() -> any MapEstimator { estimatorValue }

    private var estimatorValue: MBOEstimator {
        MBOEstimator(penalty: penalty, lambda: lambda, gamma: gamma,
                     epsilon: epsilon.entropic(tuning: EpsilonTuning(heldOutFraction: heldOutFraction)), sinkhorn: sinkhorn.options)
    }
}
