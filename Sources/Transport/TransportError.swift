/// Invalid input to a transport solver, with a one-line description of what was expected.
public enum TransportError: Error, Equatable, CustomStringConvertible {
    case emptyCloud(String)
    case dimensionMismatch(source: Int, target: Int)
    case nonFinite(String)
    case invalidEpsilon(Double)
    case invalidWarmStart(sourcePoints: Int, targetPoints: Int)
    /// An estimator parameter out of range; the message says which and what was expected.
    case invalidParameter(String)

    public var description: String {
        switch self {
        case .emptyCloud(let which): return "\(which) point cloud is empty"
        case .dimensionMismatch(let source, let target):
            return "source points have \(source) coordinates but target points have \(target)"
        case .nonFinite(let which): return "\(which) point cloud contains NaN or infinity"
        case .invalidEpsilon(let value): return "epsilon must be a positive finite number, got \(value)"
        case .invalidWarmStart(let n, let m):
            return "warm-start potentials must be finite, \(n) values for the source and \(m) for the target"
        case .invalidParameter(let message): return message
        }
    }
}
