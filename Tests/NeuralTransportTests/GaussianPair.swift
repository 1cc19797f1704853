import Foundation
import LinearAlgebra
import Transport

/// A Gaussian pair whose OT map is known: N(0, I) → N(m, A²) with A symmetric positive definite
/// has T(x) = Ax + m.
struct GaussianPair {
    let a: Matrix<Double>
    let shift: [Double]

    var dimension: Int { shift.count }

    /// A = QΛQᵀ with a random rotation Q and eigenvalues spread over [0.5, 1.5], m ~ N(0, I).
    static func random(dimension d: Int, rng: inout SeededRNG) throws -> GaussianPair {
        let q = try (rng.normalMatrix(rows: d, cols: d) as Matrix<Double>).thinSVD().u
        let scaled = Matrix(rows: d, cols: d) { i, j in q[i, j] * (0.5 + Double(j) / Double(d - 1)) }
        return GaussianPair(a: scaled.multiplied(by: q, transposeOther: true), shift: (0..<d).map { _ in rng.normal() })
    }

    func exactMap(_ x: Matrix<Double>) -> Matrix<Double> {
        let moved = x.multiplied(by: a, transposeOther: true)
        return Matrix(rows: x.rows, cols: dimension) { i, j in moved[i, j] + shift[j] }
    }

    /// MSE against the exact map of `estimator`'s map and of the mean-shift baseline, on 500
    /// fresh source points, after fitting on 2000 points per side.
    func errors(of estimator: some MapEstimator, rng: inout SeededRNG) throws -> (learned: Double, meanShift: Double) {
        let source: Matrix<Double> = rng.normalMatrix(rows: 2000, cols: dimension)
        let target = exactMap(rng.normalMatrix(rows: 2000, cols: dimension))
        let query: Matrix<Double> = rng.normalMatrix(rows: 500, cols: dimension)
        let map = try estimator.fit(source: source, target: target, rng: &rng)
        let baseline = try MeanShiftEstimator().fit(source: source, target: target, rng: &rng)
        let truth = exactMap(query)
        func mse(_ predicted: Matrix<Double>) -> Double {
            zip(predicted.storage, truth.storage).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(query.rows)
        }
        return (mse(try map.transport(query)), mse(try baseline.transport(query)))
    }
}

/// Fits `base` in Float, as the pipeline does, for tests written in Double: Float halves the
/// cost of the Sinkhorn solves inside neural training steps.
struct FloatPrecision<Base: MapEstimator>: MapEstimator {
    let base: Base

    func fit(source: Matrix<Float>, target: Matrix<Float>, rng: inout SeededRNG) throws -> any TransportMap<Float> {
        try base.fit(source: source, target: target, rng: &rng)
    }

    func fit(source: Matrix<Double>, target: Matrix<Double>, rng: inout SeededRNG) throws -> any TransportMap<Double> {
        FloatMap(map: try base.fit(source: source.converted(to: Float.self), target: target.converted(to: Float.self), rng: &rng))
    }

    /// A Float map applied to Double points; tests never store it.
    struct FloatMap: TransportMap {
        let map: any TransportMap<Float>
        var converged: Bool { map.converged }

        init(map: any TransportMap<Float>) { self.map = map }

        func transport(_ points: Matrix<Double>) throws -> Matrix<Double> {
            try map.transport(points.converted(to: Float.self)).converted(to: Double.self)
        }

        init(from decoder: Decoder) throws {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "test-only map"))
        }

        func encode(to encoder: Encoder) throws {
            throw EncodingError.invalidValue(self, .init(codingPath: [], debugDescription: "test-only map"))
        }
    }
}
