import Foundation
import LinearAlgebra
import Transport

/// The observed pairs of an inverse-OT problem and the loss of a bilinear cost on them.
///
/// The cost family is c_A(x, y) = −xᵀAy = Σ_ij A_ij·c_ij(x, y) with c_ij = −x_i·y_j (seed 004:
/// C_A(x₁, x₂) = x₁ᵀAx₂, sign flipped so that a positive A couples x and y positively). For
/// identifiability the c_ij must be centred under both marginals (seed 004, "Non-uniqueness for
/// iOT"), so x and y are centred on their empirical means: the centred cost differs from the raw
/// one by a function of x plus a function of y, which the potentials absorb, so the coupling and
/// A are those of the raw data.
///
/// The loss (`InverseOTCostFamily`) of Andrade, Peyré & Poon (ICLR 2024; REFERENCES Part A §3.1)
/// on the empirical coupling π̂ = (1/n)Σδ_(x_i, y_i) is
///   L(A) = inf_{f,g} (1/n)Σ_i [C_ii − f_i − g_i] + (ε/n²)Σ_ij exp((f_i + g_j − C_ij)/ε),
/// with gradient ∇L(A) = E_{π_A}[x yᵀ] − E_π̂[x yᵀ] = Xᵀ P_A Y − (1/n)XᵀY; the cost rows come from
/// one gemm per block (`BilinearSinkhorn`), so no n × n matrix is held.
public struct InverseOTProblem: InverseOTCostFamily {
    /// Centred source halves of the pairs, n × dx.
    public let x: Matrix<Double>
    /// Centred target halves, n × dy.
    public let y: Matrix<Double>
    public let epsilon: Double
    /// E_π̂[x yᵀ] = (1/n)XᵀY of the centred pairs, dx × dy.
    public let observedCrossMoment: Matrix<Double>
    /// E_π̂[c_ij] = −E_π̂[x_i y_j], the observed moments of the basis costs c_ij = −x_i·y_j.
    public let observedMoments: Matrix<Double>

    public var pairs: Int { x.rows }

    /// - Parameters: x, y: row i of each is the i-th observed pair (x_i, y_i).
    public init(x: Matrix<Double>, y: Matrix<Double>, epsilon: Double) throws {
        guard x.rows == y.rows else {
            throw TransportError.invalidParameter("inverse OT needs one y per x: \(x.rows) source rows but \(y.rows) target rows")
        }
        guard x.rows >= 2 else { throw TransportError.invalidParameter("inverse OT needs at least 2 observed pairs, got \(x.rows)") }
        guard x.cols > 0, y.cols > 0 else { throw TransportError.invalidParameter("inverse OT needs at least one coordinate on each side") }
        guard x.allFinite else { throw TransportError.nonFinite("source") }
        guard y.allFinite else { throw TransportError.nonFinite("target") }
        guard epsilon.isFinite, epsilon > 0 else { throw TransportError.invalidEpsilon(epsilon) }
        self.x = InverseOTProblem.centred(x)
        self.y = InverseOTProblem.centred(y)
        self.epsilon = epsilon
        self.observedCrossMoment = self.x.multiplied(by: self.y, transposeSelf: true, scale: 1 / Double(x.rows))
        self.observedMoments = scaled(observedCrossMoment, -1)
    }

    static func centred(_ m: Matrix<Double>) -> Matrix<Double> {
        var result = m
        for j in 0..<m.cols {
            var mean = 0.0
            for i in 0..<m.rows { mean += m[i, j] }
            mean /= Double(m.rows)
            for i in 0..<m.rows { result[i, j] -= mean }
        }
        return result
    }


    public typealias Evaluation = InverseOTEvaluation

    public func sinkhorn(
        _ a: Matrix<Double>, options: SinkhornOptions, warmStart: SinkhornPotentials<Double>?
    ) throws -> SinkhornResult<Double> {
        try BilinearSinkhorn.solve(source: x, target: y, interaction: a, epsilon: epsilon, options: options, warmStart: warmStart)
    }

    /// −Xᵀ P Y, without forming P.
    public func planMoments(_ a: Matrix<Double>, potentials: SinkhornPotentials<Double>) throws -> Matrix<Double> {
        let moments = try BilinearSinkhorn.planMoments(source: x, target: y, interaction: a, epsilon: epsilon,
                                                       potentials: potentials)
        return scaled(moments.crossMoment, -1)
    }

    /// E_P[c_ij] = −(XᵀPY)_ij of the semi-dual plan at g.
    public func semiDualPass(_ a: Matrix<Double>, g: [Double]) throws -> (pass: SemiDualPass, planMoments: Matrix<Double>) {
        let pass = try BilinearSinkhorn.semiDualPass(source: x, target: y, interaction: a, epsilon: epsilon, g: g)
        return (pass, scaled(try Matrix(rows: a.rows, cols: a.cols, storage: pass.moments), -1))
    }

    /// ε/(λ_max(Σ_x)·λ_max(Σ_y)): the Hessian of L at A = 0 is Σ_x ⊗ Σ_y / ε.
    public func initialStep() throws -> Double {
        epsilon / (try InverseOTProblem.largestVariance(x) * InverseOTProblem.largestVariance(y))
    }

    /// λ_max of the empirical covariance of the (centred) rows.
    static func largestVariance(_ m: Matrix<Double>) throws -> Double {
        let covariance = m.multiplied(by: m, transposeSelf: true, scale: 1 / Double(m.rows))
        let largest = try covariance.symmetricEigen().values.last ?? 0
        return Swift.max(largest, .leastNormalMagnitude)
    }

    /// The inner Sinkhorn's settings: a tight marginal threshold, since the outer descent
    /// compares losses and steps on gradients that are differences of second moments.
    public static let defaultSinkhorn = SinkhornOptions(epsilon: .auto, threshold: 1e-8, maxIterations: 10_000)
}
