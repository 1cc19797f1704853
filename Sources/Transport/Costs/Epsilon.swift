import LinearAlgebra

/// How the entropic regularisation ε is chosen.
public enum EpsilonChoice: Sendable, Equatable, Codable {
    /// A fixed value.
    case fixed(Double)
    /// OTT-JAX's default for a point-cloud geometry: 0.05 × the standard deviation of the
    /// cost-matrix entries.
    case auto
    /// `scale` × the mean of the cost-matrix entries.
    case relativeToMean(Double)

    /// The value of ε for the cost between these clouds, computed in blocks (the cost matrix
    /// is never held whole), with sums in Double.
    func resolve<Scalar: TransportScalar>(for cost: any CostRowSource<Scalar>) throws -> Double {
        let value: Double
        switch self {
        case .fixed(let fixed):
            value = fixed
        case .auto, .relativeToMean:
            let (mean, variance) = costMoments(cost)
            if case .relativeToMean(let scale) = self {
                value = scale * mean
            } else {
                value = 0.05 * variance.squareRoot()
            }
        }
        guard value.isFinite, value > 0 else { throw TransportError.invalidEpsilon(value) }
        return value
    }
}

/// Mean and (population) variance of all cost entries.
private func costMoments<Scalar: TransportScalar>(_ cost: any CostRowSource<Scalar>) -> (Double, Double) {
    let n = cost.rows, m = cost.cols
    let blockRows = Swift.max(1, (1 << 16) / Swift.max(1, m))
    var buffer = [Scalar](repeating: 0, count: blockRows * m)
    var sum = 0.0, sumSquares = 0.0
    var start = 0
    while start < n {
        let end = Swift.min(n, start + blockRows)
        buffer.withUnsafeMutableBufferPointer { block in
            guard let base = block.baseAddress else { return }
            cost.fillRows(start..<end, into: base)
            for value in block[0..<((end - start) * m)] {
                let v = Double(value)
                sum += v
                sumSquares += v * v
            }
        }
        start = end
    }
    let count = Double(n * m)
    let mean = sum / count
    return (mean, Swift.max(0, sumSquares / count - mean * mean))
}
