import Foundation
import LinearAlgebra

/// The sliced 2-Wasserstein distance between two clouds of equal size, over fixed random unit
/// directions θ_k: SW₂ = (mean_k W₂²(⟨θ_k, x⟩, ⟨θ_k, y⟩))^½, each 1-D W₂² from sorted projections
/// (POT's `sliced_wasserstein_distance` with p = 2).
public struct SlicedWasserstein<Scalar: BLASScalar>: Sendable {
    /// d × K, one unit direction per column.
    public let directions: Matrix<Scalar>

    public init(dimension: Int, projections: Int, rng: inout SeededRNG) {
        precondition(dimension > 0 && projections > 0)
        let raw: Matrix<Double> = rng.normalMatrix(rows: dimension, cols: projections)
        let norms = (0..<projections).map { k in raw.column(k).reduce(0) { $0 + $1 * $1 }.squareRoot() }
        directions = Matrix(rows: dimension, cols: projections) { i, k in Scalar(raw[i, k] / Swift.max(norms[k], .leastNormalMagnitude)) }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func distance(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>) -> Double {
        precondition(x.rows == y.rows && x.rows > 0, "sliced Wasserstein here compares clouds of equal size")
        let px = x.multiplied(by: directions), py = y.multiplied(by: directions)
        var total = 0.0
        for k in 0..<directions.cols {
            let a = px.column(k).sorted(), b = py.column(k).sorted()
            total += zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / Double(a.count)
        }
        return (total / Double(directions.cols)).squareRoot()
    }
}
