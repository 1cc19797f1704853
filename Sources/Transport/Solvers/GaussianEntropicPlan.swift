import Foundation
import LinearAlgebra

/// The entropic OT plan between two centred Gaussians N(0, Σ₀) and N(0, Σ_T) for the cost
/// ½‖x − y‖² at ε (π(y | x) ∝ exp((f(y) − ½‖x − y‖²)/ε)), in closed form (Janati et al. 2020;
/// the form the energy-guided EOT authors' `analytical_solution.py` uses, REFERENCES.md Part A
/// §2.4): the plan is Gaussian with covariance [[Σ₀, C], [Cᵀ, Σ_T]],
///
///     D = (4 Σ₀^½ Σ_T Σ₀^½ + ε² I)^½,    C = ½(Σ₀^½ D Σ₀^{−½} − ε I),
///
/// so y | x ~ N(Cᵀ Σ₀⁻¹ x, Σ_T − Cᵀ Σ₀⁻¹ C). (Janati's σ² is this ε: their cost ‖x − y‖² with
/// 2σ²·KL is this problem scaled by 2.)
public struct GaussianEntropicPlan: Sendable {
    public let sourceCovariance: Matrix<Double>
    public let targetCovariance: Matrix<Double>
    public let epsilon: Double
    /// C = Cov(x, y) under the plan.
    public let crossCovariance: Matrix<Double>

    public init(sourceCovariance: Matrix<Double>, targetCovariance: Matrix<Double>, epsilon: Double) throws {
        let d = sourceCovariance.rows
        guard sourceCovariance.cols == d, targetCovariance.rows == d, targetCovariance.cols == d else {
            throw TransportError.invalidParameter("Gaussian plan: covariances must both be d × d")
        }
        guard epsilon > 0, epsilon.isFinite else { throw TransportError.invalidEpsilon(epsilon) }
        self.sourceCovariance = sourceCovariance
        self.targetCovariance = targetCovariance
        self.epsilon = epsilon
        let root = try Self.power(sourceCovariance, 0.5)
        let inverseRoot = try Self.power(sourceCovariance, -0.5)
        var inner = root.multiplied(by: targetCovariance).multiplied(by: root).map { 4 * $0 }
        for i in 0..<d { inner[i, i] += epsilon * epsilon }
        var cross = root.multiplied(by: try Self.power(inner, 0.5)).multiplied(by: inverseRoot)
        for i in 0..<d { cross[i, i] -= epsilon }
        crossCovariance = cross.map { $0 / 2 }
    }

    /// Cov of the plan on (x, y): the 2d × 2d matrix [[Σ₀, C], [Cᵀ, Σ_T]].
    public var jointCovariance: Matrix<Double> {
        let d = sourceCovariance.rows
        return Matrix(rows: 2 * d, cols: 2 * d) { i, j in
            switch (i < d, j < d) {
            case (true, true): return sourceCovariance[i, j]
            case (true, false): return crossCovariance[i, j - d]
            case (false, true): return crossCovariance[j, i - d]
            case (false, false): return targetCovariance[i - d, j - d]
            }
        }
    }

    /// Cov(y | x) = Σ_T − Cᵀ Σ₀⁻¹ C, the same for every x.
    public func conditionalCovariance() throws -> Matrix<Double> {
        let inverse = try Self.power(sourceCovariance, -1)
        let explained = crossCovariance.multiplied(by: inverse, transposeSelf: true).multiplied(by: crossCovariance)
        return targetCovariance - explained
    }

    /// A^p for a symmetric A, through its eigendecomposition: positive definite for p < 0,
    /// positive semi-definite otherwise (rounding's tiny negative eigenvalues count as 0).
    public static func power(_ a: Matrix<Double>, _ p: Double) throws -> Matrix<Double> {
        let eigen = try a.symmetricEigen()
        guard let smallest = eigen.values.first, p >= 0 || smallest > 0 else {
            throw TransportError.invalidParameter("Gaussian plan: covariance is not positive definite")
        }
        let scaled = Matrix(rows: a.rows, cols: a.cols) { i, j in
            eigen.vectors[i, j] * Foundation.pow(Swift.max(0, eigen.values[j]), p)
        }
        return scaled.multiplied(by: eigen.vectors, transposeOther: true)
    }
}

/// The Bures–Wasserstein unexplained-variance percentage of Korotin et al. 2021, as the
/// energy-guided EOT authors compute it (`src/gauss2gauss/metrics.py`): the W₂² between the
/// Gaussian fitted to `samples` (their mean and covariance) and N(μ, Σ),
///
///     BW = ½‖μ − μ̂‖² + ½ tr Σ̂ + ½ tr Σ − tr((Σ̂^½ Σ Σ̂^½)^½),     UVP = 100 · BW / (½ tr Σ).
public enum BuresWassersteinUVP {
    public static func percentage(samples: Matrix<Double>, mean: [Double], covariance: Matrix<Double>) throws -> Double {
        let d = samples.cols
        guard samples.rows >= 2, mean.count == d, covariance.rows == d, covariance.cols == d else {
            throw TransportError.invalidParameter("BW-UVP: needs ≥ 2 samples of the Gaussian's dimension")
        }
        let means = samples.columnMeans()
        let centred = samples.subtractingFromRows(means)
        let fitted = centred.multiplied(by: centred, transposeSelf: true, scale: 1 / Double(samples.rows - 1))
        let root = try GaussianEntropicPlan.power(symmetrised(fitted), 0.5)
        let middle = root.multiplied(by: covariance).multiplied(by: root)
        let crossTrace = try symmetrised(middle).symmetricEigen().values.reduce(0) { $0 + Swift.max(0, $1).squareRoot() }
        let shift = zip(means, mean).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let traceTruth = (0..<d).reduce(0.0) { $0 + covariance[$1, $1] }
        let traceFitted = (0..<d).reduce(0.0) { $0 + fitted[$1, $1] }
        let bw = 0.5 * shift + 0.5 * traceFitted + 0.5 * traceTruth - crossTrace
        return 100 * Swift.max(0, bw) / (0.5 * traceTruth)
    }

    private static func symmetrised(_ a: Matrix<Double>) -> Matrix<Double> {
        Matrix(rows: a.rows, cols: a.cols) { i, j in (a[i, j] + a[j, i]) / 2 }
    }
}
