import Transport

/// The map of the Sinkhorn-divergence potential (Pooladian et al. 2022; OTT-JAX's debiased
/// `DualPotentials`): the entropic map corrected by the source's self-transport.
public struct DebiasedMethod: MethodConfiguration {
    public static let name = "debiased"
    public static let summary = "map of the Sinkhorn-divergence potential"
    public static var mapType: any TransportMap<Float>.Type { DebiasedEntropicMap<Float>.self }

    public var epsilon = Epsilon.auto
    public var sinkhorn = SinkhornSettings()

    public init() {}

    public static var parameters: [MethodParameter<Self>] {
        [.epsilon(\.epsilon, accepting: [.auto], "auto (OTT's default ε) or a number")] + MethodParameter.sinkhorn(\.sinkhorn, unbalanced: false)
    }

    public var groundCost: GroundCost? { .squaredEuclidean }

    /// Debiasing is defined for balanced OT: the method has no `tau_a`, `tau_b`.
    public func problem() -> String? { sinkhorn.problem() }

    public func estimator() -> any MapEstimator {
        DebiasedMapEstimator(epsilon: epsilon.choice, sinkhorn: sinkhorn.options)
    }
}
