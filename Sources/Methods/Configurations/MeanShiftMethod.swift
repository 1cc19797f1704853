import Transport

/// T(x) = x + mean(target) − mean(source): the mean displacement, a baseline.
public struct MeanShiftMethod: MethodConfiguration {
    public static let name = "mean_shift"
    public static let summary = "T(x) = x + mean(target) − mean(source) (baseline)"
    public static var parameters: [MethodParameter<Self>] { [] }
    public static var mapType: any TransportMap<Float>.Type { MeanShiftMap<Float>.self }

    public init() {}

    public func estimator() -> any MapEstimator { MeanShiftEstimator() }
}
