import Transport

/// The entropic map at OTT-JAX's default ε (0.05 × the std of the cost matrix), no search.
public struct UntunedMethod: MethodConfiguration {
    public static let name = "untuned"
    public static let summary = "entropic map at OTT's default ε"
    public static var mapType: any TransportMap<Float>.Type { EntropicMap<Float>.self }

    public var cost = GroundCost.squaredEuclidean
    public var sinkhorn = SinkhornSettings()

    public init() {}

    public static var parameters: [MethodParameter<Self>] {
        [.cost(\.cost, "ground cost of the solve and of the map")] + MethodParameter.sinkhorn(\.sinkhorn)
    }

    public var groundCost: GroundCost? { cost }

    public func problem() -> String? { sinkhorn.problem() }

    public func estimator() -> any MapEstimator {
        EntropicMapEstimator(epsilon: .choice(.auto), sinkhorn: sinkhorn.options, cost: cost)
    }
}
