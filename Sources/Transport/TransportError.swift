/// Invalid input to a transport solver, with a one-line description of what was expected.
public enum TransportError: Error, Equatable, CustomStringConvertible {
    case emptyCloud(String)
    case dimensionMismatch(source: Int, target: Int)
    case nonFinite(String)
    case invalidEpsilon(Double)

    public var description: String {
        switch self {
        case .emptyCloud(let which): return "\(which) point cloud is empty"
        case .dimensionMismatch(let source, let target):
            return "source points have \(source) coordinates but target points have \(target)"
        case .nonFinite(let which): return "\(which) point cloud contains NaN or infinity"
        case .invalidEpsilon(let value): return "epsilon must be a positive finite number, got \(value)"
        }
    }
}
