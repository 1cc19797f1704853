import Transport

/// The entropic map (Pooladian & Niles-Weed 2021) with ε tuned on held-out target points by
/// default: the ProgOT paper's tuned EOT baseline (Kassraie et al. 2024, Algorithm 4). With an
/// elastic cost it is the map of Cuturi, Klein & Ablin (2023, eq. 7).
public struct EOTMethod: MethodConfiguration {
    public static let name = "eot"
    public static let summary = "entropic map; ε tuned on held-out target points unless given"
    public static var mapType: any TransportMap<Float>.Type { EntropicMap<Float>.self }

    public var epsilon = Epsilon.tuned
    public var heldOutFraction = EpsilonTuning().heldOutFraction
    public var cost = GroundCost.squaredEuclidean
    public var sinkhorn = SinkhornSettings()

    public init() {}

    public static var parameters: [MethodParameter<Self>] {
        [
            .epsilon(\.epsilon, accepting: [.tuned, .auto], "tuned (held-out search), auto (OTT's default ε) or a number"),
            .number("held_out_fraction", \.heldOutFraction, .fraction, "target fraction held out to tune ε"),
            .cost(\.cost, "ground cost of every solve and of the map"),
        ] + MethodParameter.sinkhorn(\.sinkhorn)
    }

    public var groundCost: GroundCost? { cost }

    public func problem() -> String? { sinkhorn.problem() }

    public func estimator() -> any MapEstimator {
        EntropicMapEstimator(epsilon: epsilon.entropic(tuning: EpsilonTuning(heldOutFraction: heldOutFraction)),
                             sinkhorn: sinkhorn.options, cost: cost)
    }
}
