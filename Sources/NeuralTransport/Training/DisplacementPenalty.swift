import Foundation
import LinearAlgebra

/// A sparsity-inducing penalty τ on displacements d = T(x) − x, summed over coordinates:
/// what the displacement-sparse ICNN adds to g's loss as λ·E_x[τ(∇g(x) − x)]
/// (Chen, Xie & Zhang 2025, "Displacement-Sparse Neural Optimal Transport").
public enum DisplacementPenalty: Sendable, Codable, Equatable {
    /// τ(d) = Σᵢ |dᵢ| (subgradient 0 at 0).
    case l1
    /// τ(d) = Σᵢ (1 − exp(−dᵢ²/(2σ²))): a smooth count of the coordinates that move by more
    /// than about σ.
    case smoothedL0(sigma: Double)
    /// Soft thresholding with vanishing shrinkage (Schreck et al. 2015), as OTT-JAX's `STVS`:
    /// τ(d) = γ² Σᵢ (uᵢ − ½e^(−2uᵢ) + ½) with uᵢ = asinh(|dᵢ|/(2γ)).
    case stvs(gamma: Double)

    /// The penalty's name in pipeline files and reports.
    public var name: String {
        switch self {
        case .l1: "l1"
        case .smoothedL0: "smoothed_l0"
        case .stvs: "stvs"
        }
    }

    /// τ of one coordinate; the row's penalty is the sum over its coordinates.
    @inline(__always)
    public func value(_ d: Double) -> Double {
        switch self {
        case .l1:
            return abs(d)
        case .smoothedL0(let sigma):
            return 1 - exp(-d * d / (2 * sigma * sigma))
        case .stvs(let gamma):
            let u = asinh(abs(d) / (2 * gamma))
            return gamma * gamma * (u - 0.5 * exp(-2 * u) + 0.5)
        }
    }

    /// dτ/dd of one coordinate. For STVS, with s = d/(2γ): γ²(1 + e^(−2u))·u′ simplifies to
    /// γ·sign(d)·(√(1 + s²) − |s|).
    @inline(__always)
    public func derivative(_ d: Double) -> Double {
        switch self {
        case .l1:
            return d > 0 ? 1 : (d < 0 ? -1 : 0)
        case .smoothedL0(let sigma):
            let variance = sigma * sigma
            return d / variance * exp(-d * d / (2 * variance))
        case .stvs(let gamma):
            guard d != 0 else { return 0 }
            let s = abs(d) / (2 * gamma)
            return (d > 0 ? gamma : -gamma) * ((1 + s * s).squareRoot() - s)
        }
    }

    /// The mean over rows of τ(row).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func meanValue<Scalar: BLASScalar>(_ displacements: Matrix<Scalar>) -> Double {
        guard displacements.rows > 0 else { return 0 }
        let total = displacements.storage.reduce(0.0) { $0 + value(Double($1)) }
        return total / Double(displacements.rows)
    }

    /// ∂τ(row)/∂row for every entry, times `scale`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func gradient<Scalar: BLASScalar>(_ displacements: Matrix<Scalar>, scale: Double) -> Matrix<Scalar> {
        displacements.map { Scalar(scale * derivative(Double($0))) }
    }
}
