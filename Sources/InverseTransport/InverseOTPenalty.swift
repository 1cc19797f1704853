import LinearAlgebra

/// The regulariser R(A) of the inverse-OT estimator argmin L(A) + λ·R(A) (Andrade, Peyré &
/// Poon, ICLR 2024; seed 004, "Typical regularisers"), with its proximal operator.
public enum InverseOTPenalty: String, Sendable, Codable, CaseIterable {
    /// ‖A‖₁ = Σ|A_ij|: a sparse cost (support recovery).
    case l1
    /// ‖A‖_* = Σσ_k(A): a low-rank cost (rank recovery).
    case nuclear
    /// No penalty (λ is ignored): the unregularised estimator.
    case none

    /// R(A).
    public func value(_ a: Matrix<Double>) throws -> Double {
        switch self {
        case .l1: return a.storage.reduce(0) { $0 + Swift.abs($1) }
        case .nuclear: return try a.thinSVD().singularValues.reduce(0, +)
        case .none: return 0
        }
    }

    /// prox_{τR}(A) = argmin_B ½‖B − A‖²_F + τ·R(B): entrywise soft-thresholding for ℓ1,
    /// soft-thresholding of the singular values (singular-value thresholding) for the nuclear norm.
    public func proximal(_ a: Matrix<Double>, threshold tau: Double) throws -> Matrix<Double> {
        switch self {
        case .none:
            return a
        case .l1:
            var result = a
            result.withUnsafeMutableBufferPointer { values in
                for k in values.indices { values[k] = softThreshold(values[k], tau) }
            }
            return result
        case .nuclear:
            let svd = try a.thinSVD()
            let shrunk = svd.singularValues.map { Swift.max(0, $0 - tau) }
            var scaledU = svd.u
            for i in 0..<scaledU.rows {
                for k in 0..<scaledU.cols { scaledU[i, k] *= shrunk[k] }
            }
            return scaledU.multiplied(by: svd.vt)
        }
    }
}

@inline(__always)
func softThreshold(_ value: Double, _ tau: Double) -> Double {
    value > tau ? value - tau : (value < -tau ? value + tau : 0)
}
