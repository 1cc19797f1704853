import Foundation
import LinearAlgebra

/// Entropic OT on a cost matrix given entry by entry, with uniform weights: for costs that are
/// neither translation invariant (`GroundCost`) nor bilinear, such as the linear combinations
/// c_θ = Σ_k θ_k c_k of a basis of costs evaluated on samples (inverse OT, Andrade, Peyré &
/// Poon, ICLR 2024, seed 004's "c_θ = Σ_k θ_k C_k").
public enum CostMatrixSinkhorn {
    /// Sinkhorn on C (n × m) at a fixed ε (`options.epsilon` is ignored), from `warmStart` when
    /// given. The matrix is read as it is: nothing is recomputed, so `options.mode` has no effect.
    public static func solve(
        cost: Matrix<Double>, epsilon: Double, options: SinkhornOptions = SinkhornOptions(),
        warmStart: SinkhornPotentials<Double>? = nil
    ) throws -> SinkhornResult<Double> {
        try check(cost, epsilon)
        if let warmStart {
            guard warmStart.f.count == cost.rows, warmStart.g.count == cost.cols,
                  warmStart.f.allSatisfy(\.isFinite), warmStart.g.allSatisfy(\.isFinite) else {
                throw TransportError.invalidWarmStart(sourcePoints: cost.rows, targetPoints: cost.cols)
            }
        }
        var dense = options
        dense.mode = .dense
        return try Sinkhorn.iterate(PrecomputedCost(values: cost), epsilon: epsilon, dense, warmStart: warmStart)
    }

    /// The plan P_ij = exp((f_i + g_j − C_ij)/ε)/(n·m) of `potentials` on C, computed by row
    /// blocks on every core with the row kernels (`exponentiateRow`).
    public static func plan(
        cost: Matrix<Double>, epsilon: Double, potentials: SinkhornPotentials<Double>
    ) throws -> Matrix<Double> {
        try check(cost, epsilon)
        let n = cost.rows, m = cost.cols
        guard potentials.f.count == n, potentials.g.count == m else {
            throw TransportError.invalidWarmStart(sourcePoints: n, targetPoints: m)
        }
        let logWeight = -Foundation.log(Double(n)) - Foundation.log(Double(m))
        let inverseEpsilon = 1 / epsilon
        let offsets = potentials.g.map { $0 * inverseEpsilon }
        var result = cost
        result.withUnsafeMutableBufferPointer { buffer in
            offsets.withUnsafeBufferPointer { offsetBuffer in
                guard let base = buffer.baseAddress, let offsets = offsetBuffer.baseAddress else { return }
                let shared = UncheckedSendable((base, offsets))
                parallelForRanges(count: n, minimumBlock: Swift.max(1, (1 << 14) / Swift.max(1, m))) { rows in
                    let (base, offsets) = shared.value
                    for i in rows {
                        let shift = potentials.f[i] * inverseEpsilon + logWeight
                        _ = exponentiateRow(base + i * m, count: m, shift: shift, offsets: offsets, inverseEpsilon: inverseEpsilon)
                    }
                }
            }
        }
        return result
    }

    static func check(_ cost: Matrix<Double>, _ epsilon: Double) throws {
        guard cost.rows > 0 else { throw TransportError.emptyCloud("source") }
        guard cost.cols > 0 else { throw TransportError.emptyCloud("target") }
        guard cost.allFinite else { throw TransportError.invalidParameter("the cost matrix contains NaN or infinity") }
        guard epsilon.isFinite, epsilon > 0 else { throw TransportError.invalidEpsilon(epsilon) }
    }
}
