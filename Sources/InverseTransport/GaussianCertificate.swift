import Foundation
import LinearAlgebra
import Transport

/// Seed 004's ℓ1 pre-certificate for the population problem with Gaussian marginals
/// N(0, I_dx), N(0, I_dy) and the bilinear cost −xᵀA*y ("Structure preservation"):
/// ẑ = M_{(:,I)} M_{(I,I)}⁻¹ sign(A*_I) with M = ∇²J(A*) and I = supp A*; support recovery for
/// 1 ≳ λ ≳ √(log n / n) is guaranteed when ẑ is non-degenerate, ‖ẑ_{I^c}‖_∞ < 1.
///
/// M is computed exactly rather than from the slide's transcribed Kronecker formula (REFERENCES
/// Part A §3.2 copies it from a slide): the Hessian of −W_ε(c_θ) in θ is (1/ε)·E_π[r rᵀ] with r
/// the residual of the features φ_ij = x_i·y_j after their L²(π) projection onto functions
/// u(x) + v(y). Under the Gaussian plan (`GaussianBilinearPlan`) that projection stays within
/// the quadratic monomials x_a·x_b and y_a·y_b (conditional expectations map quadratics to
/// quadratics), so M = (1/ε)·(C_φφ − C_φψ C_ψψ⁻¹ C_ψφ), every covariance of products from Isserlis'
/// theorem: Cov(z_a z_b, z_c z_d) = K_ac K_bd + K_ad K_bc with K the joint covariance of z = (x, y).
public enum GaussianCertificate {
    /// M = ∇²J(A*), p × p with p = dx·dy, parameters in row-major order (i·dy + j).
    public static func hessian(interaction a: Matrix<Double>, epsilon: Double) throws -> Matrix<Double> {
        let plan = try GaussianBilinearPlan(interaction: a, epsilon: epsilon)
        let dx = a.rows, dy = a.cols, d = dx + dy
        var k = Matrix<Double>.identity(d)
        for i in 0..<dx {
            for j in 0..<dy {
                k[i, dx + j] = plan.crossCovariance[i, j]
                k[dx + j, i] = plan.crossCovariance[i, j]
            }
        }
        let features = (0..<dx).flatMap { i in (0..<dy).map { j in (i, dx + j) } }
        var separable: [(Int, Int)] = []
        for a in 0..<dx { for b in a..<dx { separable.append((a, b)) } }
        for a in dx..<d { for b in a..<d { separable.append((a, b)) } }
        func covariance(_ u: [(Int, Int)], _ v: [(Int, Int)]) -> Matrix<Double> {
            Matrix(rows: u.count, cols: v.count) { r, c in
                let (p, q) = u[r], (s, t) = v[c]
                return k[p, s] * k[q, t] + k[p, t] * k[q, s]
            }
        }
        let cpp = covariance(features, features), cps = covariance(features, separable)
        let css = covariance(separable, separable)
        let projected = cps.multiplied(by: try symmetricSolve(css, cps.transposed))
        return Matrix(rows: features.count, cols: features.count) { r, c in (cpp[r, c] - projected[r, c]) / epsilon }
    }

    /// ẑ (dx × dy), its largest |ẑ| off the support, and whether that is below 1.
    public static func l1(interaction a: Matrix<Double>, epsilon: Double) throws
        -> (certificate: Matrix<Double>, offSupportMaximum: Double, nondegenerate: Bool) {
        let m = try hessian(interaction: a, epsilon: epsilon)
        let support = a.storage.indices.filter { a.storage[$0] != 0 }
        let signs = Matrix<Double>(rows: support.count, cols: 1) { r, _ in a.storage[support[r]] > 0 ? 1 : -1 }
        let onSupport = Matrix<Double>(rows: support.count, cols: support.count) { r, c in m[support[r], support[c]] }
        let weights = try symmetricSolve(onSupport, signs)
        let columns = Matrix<Double>(rows: m.rows, cols: support.count) { r, c in m[r, support[c]] }
        let z = columns.multiplied(by: weights)
        let certificate = try Matrix(rows: a.rows, cols: a.cols, storage: (0..<m.rows).map { z[$0, 0] })
        let inSupport = Set(support)
        let offMaximum = (0..<m.rows).filter { !inSupport.contains($0) }.map { Swift.abs(z[$0, 0]) }.max() ?? 0
        return (certificate, offMaximum, offMaximum < 1)
    }

    /// S⁻¹B for a symmetric positive definite S, through its eigendecomposition.
    static func symmetricSolve(_ s: Matrix<Double>, _ b: Matrix<Double>) throws -> Matrix<Double> {
        let eigen = try s.symmetricEigen()
        guard let smallest = eigen.values.first, smallest > 1e-12 * (eigen.values.last ?? 1) else {
            throw TransportError.invalidParameter("the certificate's Hessian block is singular (smallest eigenvalue \(eigen.values.first ?? 0))")
        }
        let projected = eigen.vectors.multiplied(by: b, transposeSelf: true)
        let scaled = Matrix<Double>(rows: projected.rows, cols: projected.cols) { r, c in projected[r, c] / eigen.values[r] }
        return eigen.vectors.multiplied(by: scaled)
    }
}
