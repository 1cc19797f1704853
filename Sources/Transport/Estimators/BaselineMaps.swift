import LinearAlgebra

/// The identity map, the "no effect" baseline: T(x) = x.
public struct IdentityMap<Scalar: TransportScalar>: TransportMap, Equatable {
    public let dimension: Int
    public var converged: Bool { true }

    public init(dimension: Int) { self.dimension = dimension }

    public func transport(_ points: Matrix<Scalar>) throws -> Matrix<Scalar> {
        try validateQuery(points, dimension: dimension)
        return points
    }
}

/// The mean-shift baseline: T(x) = x + (mean of target − mean of source).
public struct MeanShiftMap<Scalar: TransportScalar>: TransportMap, Equatable {
    public let shift: [Scalar]
    public var converged: Bool { true }

    public init(shift: [Scalar]) { self.shift = shift }

    public func transport(_ points: Matrix<Scalar>) throws -> Matrix<Scalar> {
        try validateQuery(points, dimension: shift.count)
        return Matrix(rows: points.rows, cols: points.cols) { i, j in points[i, j] + shift[j] }
    }
}

/// Fits `IdentityMap`.
public struct IdentityEstimator: MapEstimator, Equatable {
    public init() {}

    public func fit(source: Matrix<Float>, target: Matrix<Float>, rng: inout SeededRNG) throws -> any TransportMap<Float> {
        try Sinkhorn.validate(source, target)
        return IdentityMap<Float>(dimension: source.cols)
    }

    public func fit(source: Matrix<Double>, target: Matrix<Double>, rng: inout SeededRNG) throws -> any TransportMap<Double> {
        try Sinkhorn.validate(source, target)
        return IdentityMap<Double>(dimension: source.cols)
    }
}

/// Fits `MeanShiftMap`: the difference of the sample means, computed in Double.
public struct MeanShiftEstimator: MapEstimator, Equatable {
    public init() {}

    public func fit(source: Matrix<Float>, target: Matrix<Float>, rng: inout SeededRNG) throws -> any TransportMap<Float> {
        try fitGeneric(source, target)
    }

    public func fit(source: Matrix<Double>, target: Matrix<Double>, rng: inout SeededRNG) throws -> any TransportMap<Double> {
        try fitGeneric(source, target)
    }

    func fitGeneric<Scalar: TransportScalar>(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>) throws -> MeanShiftMap<Scalar> {
        try Sinkhorn.validate(x, y)
        let sourceMean = x.converted(to: Double.self).columnMeans()
        let targetMean = y.converted(to: Double.self).columnMeans()
        return MeanShiftMap(shift: zip(targetMean, sourceMean).map { Scalar($0 - $1) })
    }
}
