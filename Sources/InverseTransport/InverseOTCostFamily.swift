import Foundation
import LinearAlgebra
import Transport

/// A family of costs c_θ linear in its parameters θ, observed through n pairs (x_i, y_i): what
/// the inverse-OT loss and its proximal descent need from it (Andrade, Peyré & Poon, ICLR 2024;
/// REFERENCES Part A §3.1). θ is a matrix: dx × dy for the bilinear family c_A = −xᵀAy
/// (`InverseOTProblem`), K × 1 for a basis c_θ = Σ_k θ_k c_k (`InverseOTBasisProblem`).
///
/// The loss on the empirical coupling π̂ and its marginals is
///   L(θ) = inf_{f,g} ⟨c_θ, π̂⟩ − ⟨f, a⟩ − ⟨g, b⟩ + ε⟨exp((f ⊕ g − C_θ)/ε), a⊗b⟩,
/// i.e. ⟨c_θ, π̂⟩ − W_ε(c_θ) up to a constant; it is convex in θ and its gradient (Danskin, at
/// the Sinkhorn potentials of C_θ) is ∇_k L(θ) = E_π̂[c_k] − E_{π_θ}[c_k].
public protocol InverseOTCostFamily: Sendable {
    var epsilon: Double { get }
    /// Observed pairs n.
    var pairs: Int { get }
    /// E_π̂[c_k] for every basis cost, shaped as θ; ⟨c_θ, π̂⟩ = ⟨θ, observedMoments⟩.
    var observedMoments: Matrix<Double> { get }
    /// Sinkhorn on C_θ between the two empirical marginals, from `warmStart` when given.
    func sinkhorn(_ theta: Matrix<Double>, options: SinkhornOptions, warmStart: SinkhornPotentials<Double>?) throws
        -> SinkhornResult<Double>
    /// E_{π}[c_k] under the plan of `potentials` on C_θ, shaped as θ.
    func planMoments(_ theta: Matrix<Double>, potentials: SinkhornPotentials<Double>) throws -> Matrix<Double>
    /// One pass over the plan of C_θ at the target potential `g` with f eliminated exactly
    /// (`SemiDualPass`), and E_P[c_k] of that plan shaped as θ: the value and both gradients of
    /// the joint solver's objective at (θ, g).
    func semiDualPass(_ theta: Matrix<Double>, g: [Double]) throws -> (pass: SemiDualPass, planMoments: Matrix<Double>)
    /// A first step of the descent: ε over the largest eigenvalue of the covariance of the
    /// (doubly centred) basis costs under a⊗b, the inverse curvature of L at θ = 0.
    func initialStep() throws -> Double
}

/// The loss at θ, its gradient, and the Sinkhorn run behind them.
public struct InverseOTEvaluation: Sendable {
    public let loss: Double
    public let gradient: Matrix<Double>
    public let potentials: SinkhornPotentials<Double>
    public let sinkhornIterations: Int
    public let sinkhornConverged: Bool
    public let marginalError: Double
}

extension InverseOTCostFamily {
    /// L(θ) only (no gradient), from warm potentials when given.
    public func loss(
        _ theta: Matrix<Double>, sinkhorn options: SinkhornOptions = InverseOTProblem.defaultSinkhorn,
        warmStart: SinkhornPotentials<Double>? = nil
    ) throws -> (loss: Double, result: SinkhornResult<Double>) {
        let result = try sinkhorn(theta, options: options, warmStart: warmStart)
        return (lossValue(theta, result), result)
    }

    /// L(θ) and ∇L(θ).
    public func evaluate(
        _ theta: Matrix<Double>, sinkhorn options: SinkhornOptions = InverseOTProblem.defaultSinkhorn,
        warmStart: SinkhornPotentials<Double>? = nil
    ) throws -> InverseOTEvaluation {
        let (loss, result) = try self.loss(theta, sinkhorn: options, warmStart: warmStart)
        return try evaluation(theta, loss: loss, result)
    }

    /// The evaluation at θ from a Sinkhorn run already made there: adds the gradient.
    func evaluation(_ theta: Matrix<Double>, loss: Double, _ result: SinkhornResult<Double>) throws -> InverseOTEvaluation {
        let potentials = SinkhornPotentials(f: result.f, g: result.g)
        let expected = try planMoments(theta, potentials: potentials)
        let gradient = combine(observedMoments, 1, expected, -1)
        return InverseOTEvaluation(loss: loss, gradient: gradient, potentials: potentials, sinkhornIterations: result.iterations,
                                   sinkhornConverged: result.converged, marginalError: result.marginalError)
    }

    /// F(θ, f, g) at the returned potentials. f comes from the last row update, so the plan's
    /// mass is 1 up to rounding and the exponential term is ε: F = ⟨θ, E_π̂[c]⟩ − ⟨f, a⟩ − ⟨g, b⟩ + ε.
    func lossValue(_ theta: Matrix<Double>, _ result: SinkhornResult<Double>) -> Double {
        let meanF = result.f.reduce(0, +) / Double(result.f.count)
        let meanG = result.g.reduce(0, +) / Double(result.g.count)
        return inner(theta, observedMoments) - meanF - meanG + epsilon
    }

    func checkShape(_ theta: Matrix<Double>) throws {
        guard theta.rows == observedMoments.rows, theta.cols == observedMoments.cols else {
            throw TransportError.invalidParameter(
                "the cost parameters are \(theta.rows)×\(theta.cols), expected \(observedMoments.rows)×\(observedMoments.cols)")
        }
        guard theta.allFinite else { throw TransportError.invalidParameter("the cost parameters contain NaN or infinity") }
    }
}
