import Foundation
import LinearAlgebra
import Transport

/// The entropic coupling of α = N(0, I_dx) and β = N(0, I_dy) under c_A(x, y) = −xᵀAy, in
/// closed form: the plan exp((f ⊕ g + xᵀAy)/ε) α ⊗ β is Gaussian with identity marginal
/// covariances and cross-covariance Σ = E[x yᵀ], and the cross block of its precision matrix,
/// −Σ(I − ΣᵀΣ)⁻¹, must equal −A/ε. With A = U·diag(s)·Vᵀ this gives Σ = U·diag(b)·Vᵀ where
/// b/(1 − b²) = s/ε, i.e. b = (√(1 + 4k²) − 1)/(2k) with k = s/ε (b = 0 for k = 0, and b < 1).
///
/// This is how `perturbot generate iot-graph` samples pairs (exactly, with no Sinkhorn), and the
/// population reference for the inverse-OT tests.
public struct GaussianBilinearPlan: Sendable {
    public let interaction: Matrix<Double>
    public let epsilon: Double
    /// Σ = E_π[x yᵀ], dx × dy.
    public let crossCovariance: Matrix<Double>
    /// (I − ΣᵀΣ)^{1/2}, dy × dy: the standard deviation of y given x.
    let conditionalRoot: Matrix<Double>

    public init(interaction a: Matrix<Double>, epsilon: Double) throws {
        guard epsilon.isFinite, epsilon > 0 else { throw TransportError.invalidEpsilon(epsilon) }
        guard a.rows > 0, a.cols > 0, a.allFinite else {
            throw TransportError.invalidParameter("the interaction matrix must be non-empty and finite")
        }
        let svd = try a.thinSVD()
        let b = svd.singularValues.map { s -> Double in
            let k = s / epsilon
            return k < 1e-12 ? k : ((1 + 4 * k * k).squareRoot() - 1) / (2 * k)
        }
        var scaledU = svd.u
        for i in 0..<scaledU.rows { for k in 0..<b.count { scaledU[i, k] *= b[k] } }
        crossCovariance = scaledU.multiplied(by: svd.vt)
        // I + V·diag(√(1 − b²) − 1)·Vᵀ, valid with the thin V when dy > rank.
        var root = Matrix<Double>.identity(a.cols)
        for k in 0..<b.count {
            let shrink = (1 - b[k] * b[k]).squareRoot() - 1
            for i in 0..<a.cols {
                for j in 0..<a.cols { root[i, j] += shrink * svd.vt[k, i] * svd.vt[k, j] }
            }
        }
        conditionalRoot = root
        interaction = a
        self.epsilon = epsilon
    }

    /// n pairs (x_i, y_i) drawn from the plan: x ~ N(0, I), y = Σᵀx + (I − ΣᵀΣ)^{1/2} z.
    public func sample(_ n: Int, rng: inout SeededRNG) -> (x: Matrix<Double>, y: Matrix<Double>) {
        let dx = interaction.rows, dy = interaction.cols
        let x: Matrix<Double> = rng.normalMatrix(rows: n, cols: dx)
        let z: Matrix<Double> = rng.normalMatrix(rows: n, cols: dy)
        var y = x.multiplied(by: crossCovariance)
        y.addProduct(z, conditionalRoot)  // symmetric root
        return (x, y)
    }
}
