import Transport

/// T(x) = x: the baseline every method must beat.
public struct IdentityMethod: MethodConfiguration {
    public static let name = "identity"
    public static let summary = "T(x) = x (baseline)"
    public static var parameters: [MethodParameter<Self>] { [] }
    public static var mapType: any TransportMap<Float>.Type { IdentityMap<Float>.self }

    public init() {}

    public func estimator() -> any MapEstimator { IdentityEstimator() }
}
