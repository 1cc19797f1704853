import Foundation
import LinearAlgebra

/// The dense plan P_ij = exp((f_i + g_j − ‖x_i − y_j‖²)/ε)/(n·m) of a Sinkhorn solution between
/// two uniform point clouds, with its row sums: what the envelope-theorem gradients of the
/// neural estimators' entropic losses read (∂OT_ε/∂C = P).
public struct SinkhornPlan<Scalar: BLASScalar>: Sendable {
    /// n × m.
    public let matrix: Matrix<Scalar>
    /// Σ_j P_ij, one per source point.
    public let rowSums: [Scalar]
}

extension SinkhornPlan where Scalar == Float {
    /// The plan in the clouds' precision: one gemm for the cost, then `exponentiateRow` per row
    /// (the C row kernels: the same polynomial as the solver's).
    public init(source x: Matrix<Float>, target y: Matrix<Float>, solution: SinkhornResult<Float>) {
        self = SinkhornPlan.build(x, y, solution)
    }
}

extension SinkhornPlan where Scalar == Double {
    public init(source x: Matrix<Double>, target y: Matrix<Double>, solution: SinkhornResult<Double>) {
        self = SinkhornPlan.build(x, y, solution)
    }
}

extension SinkhornPlan where Scalar: TransportScalar {
    static func build(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>, _ solution: SinkhornResult<Scalar>) -> SinkhornPlan {
        let n = x.rows, m = y.rows
        precondition(solution.f.count == n && solution.g.count == m, "potentials do not match the clouds")
        var plan = Matrix<Scalar>(rows: n, cols: m)
        var rowSums = [Scalar](repeating: 0, count: n)
        guard n > 0, m > 0 else { return SinkhornPlan(matrix: plan, rowSums: rowSums) }
        let inverseEpsilon = 1 / solution.epsilon
        let logMass = -Foundation.log(Double(n)) - Foundation.log(Double(m))
        let offsets = solution.g.map { Scalar(Double($0) * inverseEpsilon) }
        plan.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            SquaredEuclideanCost(x, y).fillRows(0..<n, into: base)
            offsets.withUnsafeBufferPointer { g in
                guard let g = g.baseAddress else { return }
                for i in 0..<n {
                    let shift = Scalar(Double(solution.f[i]) * inverseEpsilon + logMass)
                    rowSums[i] = exponentiateRow(base + i * m, count: m, shift: shift, offsets: g, inverseEpsilon: Scalar(inverseEpsilon))
                }
            }
        }
        return SinkhornPlan(matrix: plan, rowSums: rowSums)
    }
}

/// row_j ← exp(shift + offsets_j − row_j·inverseEpsilon) (with offsets_j = g_j/ε: the entries
/// of a plan's row from its cost row) through the C row kernels; returns the row's sum.
func exponentiateRow<Scalar: TransportScalar>(
    _ row: UnsafeMutablePointer<Scalar>, count m: Int, shift: Scalar, offsets: UnsafePointer<Scalar>, inverseEpsilon: Scalar
) -> Scalar {
    _ = Scalar.exponents(cost: row, offsets: offsets, count: m, inverseEpsilon: inverseEpsilon, into: row)
    return Scalar.sumOfExponentials(row, count: m, shift: -shift, storing: true)
}
