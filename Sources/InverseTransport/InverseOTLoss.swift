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
/// The loss of Andrade, Peyré & Poon (ICLR 2024; REFERENCES Part A §3.1) on the empirical
/// coupling π̂ = (1/n)Σδ_(x_i, y_i) and its marginals is
///   L(A) = inf_{f,g} (1/n)Σ_i [C_ii − f_i − g_i] + (ε/n²)Σ_ij exp((f_i + g_j − C_ij)/ε),
/// i.e. ⟨c_A, π̂⟩ − W_ε(c_A) up to a constant; it is convex in A and its gradient (Danskin, at the
/// Sinkhorn potentials of C_A) is ∇L(A) = E_{π_A}[x yᵀ] − E_π̂[x yᵀ] = Xᵀ P_A Y − (1/n)XᵀY.
public struct InverseOTProblem: Sendable {
    /// Centred source halves of the pairs, n × dx.
    public let x: Matrix<Double>
    /// Centred target halves, n × dy.
    public let y: Matrix<Double>
    public let epsilon: Double
    /// E_π̂[x yᵀ] = (1/n)XᵀY of the centred pairs, dx × dy.
    public let observedCrossMoment: Matrix<Double>

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

    /// The loss at A, its gradient, and the Sinkhorn run behind them.
    public struct Evaluation: Sendable {
        public let loss: Double
        public let gradient: Matrix<Double>
        public let potentials: SinkhornPotentials<Double>
        public let sinkhornIterations: Int
        public let sinkhornConverged: Bool
        public let marginalError: Double
    }

    /// L(A) only (no gradient), from warm potentials when given.
    public func loss(
        _ a: Matrix<Double>, sinkhorn options: SinkhornOptions = InverseOTProblem.defaultSinkhorn,
        warmStart: SinkhornPotentials<Double>? = nil
    ) throws -> (loss: Double, result: SinkhornResult<Double>) {
        let result = try BilinearSinkhorn.solve(source: x, target: y, interaction: a, epsilon: epsilon,
                                                options: options, warmStart: warmStart)
        return (lossValue(a, result), result)
    }

    /// L(A) and ∇L(A).
    public func evaluate(
        _ a: Matrix<Double>, sinkhorn options: SinkhornOptions = InverseOTProblem.defaultSinkhorn,
        warmStart: SinkhornPotentials<Double>? = nil
    ) throws -> Evaluation {
        let (loss, result) = try self.loss(a, sinkhorn: options, warmStart: warmStart)
        return try evaluation(a, loss: loss, result)
    }

    /// The evaluation at A from a Sinkhorn run already made there: adds the gradient.
    func evaluation(_ a: Matrix<Double>, loss: Double, _ result: SinkhornResult<Double>) throws -> Evaluation {
        let potentials = SinkhornPotentials(f: result.f, g: result.g)
        let moments = try BilinearSinkhorn.planMoments(source: x, target: y, interaction: a, epsilon: epsilon,
                                                       potentials: potentials)
        var gradient = moments.crossMoment
        for i in 0..<gradient.rows {
            for j in 0..<gradient.cols { gradient[i, j] -= observedCrossMoment[i, j] }
        }
        return Evaluation(loss: loss, gradient: gradient, potentials: potentials, sinkhornIterations: result.iterations,
                          sinkhornConverged: result.converged, marginalError: result.marginalError)
    }

    /// F(A, f, g) at the returned potentials. f comes from the last row update, so the plan's
    /// mass is 1 up to rounding and the exponential term is ε: F = ⟨C_A, π̂⟩ − ⟨f, a⟩ − ⟨g, b⟩ + ε,
    /// with ⟨C_A, π̂⟩ = −⟨A, (1/n)XᵀY⟩.
    func lossValue(_ a: Matrix<Double>, _ result: SinkhornResult<Double>) -> Double {
        var observedCost = 0.0
        for k in a.storage.indices { observedCost -= a.storage[k] * observedCrossMoment.storage[k] }
        let meanF = result.f.reduce(0, +) / Double(result.f.count)
        let meanG = result.g.reduce(0, +) / Double(result.g.count)
        return observedCost - meanF - meanG + epsilon
    }

    /// The inner Sinkhorn's settings: a tight marginal threshold, since the outer descent
    /// compares losses and steps on gradients that are differences of second moments.
    public static let defaultSinkhorn = SinkhornOptions(epsilon: .auto, threshold: 1e-8, maxIterations: 10_000)
}
