import Foundation
import LinearAlgebra
import Progress
import Transport

/// Settings of the regularised inverse-OT estimator.
public struct InverseOTOptions: Sendable, Codable, Equatable {
    public var penalty: InverseOTPenalty = .l1
    /// λ of argmin L(A) + λ·R(A).
    public var lambda: Double = 0
    /// Steps at most: quasi-Newton steps (joint) or proximal-gradient steps (nested).
    public var maxIterations: Int = 2000
    /// Stop when ‖G_s(Y)‖_F ≤ tolerance · ‖E_π̂[c]‖_F (‖(1/n)XᵀY‖_F for the bilinear family), with G_s(Y) = (Y − prox_{sλR}(Y − s∇L(Y)))/s
    /// the gradient mapping (zero exactly at a minimiser): at FISTA's extrapolated point and step
    /// for the nested solver, at the current point and the first step s₀ for the joint one.
    public var tolerance: Double = 1e-5
    /// An entry belongs to the support when |A_ij| > supportTolerance · max|A|; a singular value
    /// counts toward the rank when σ_k > supportTolerance · σ_max.
    public var supportTolerance: Double = 1e-6
    /// The plan's marginal threshold (‖P1 − b‖₁, as Sinkhorn's) and, for the nested solver, the
    /// inner Sinkhorn's cap; its ε is the problem's.
    public var sinkhorn: SinkhornOptions = InverseOTProblem.defaultSinkhorn
    /// The minimiser: the joint quasi-Newton or the nested proximal gradient.
    public var solver: InverseOTSolver = .automatic

    public init(penalty: InverseOTPenalty = .l1, lambda: Double = 0, maxIterations: Int = 2000, tolerance: Double = 1e-5,
                supportTolerance: Double = 1e-6, sinkhorn: SinkhornOptions = InverseOTProblem.defaultSinkhorn,
                solver: InverseOTSolver = .automatic) {
        self.penalty = penalty
        self.lambda = lambda
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.supportTolerance = supportTolerance
        self.sinkhorn = sinkhorn
        self.solver = solver
    }

    func validated() throws -> InverseOTOptions {
        guard lambda.isFinite, lambda >= 0 else { throw TransportError.invalidParameter("lambda must be ≥ 0, got \(lambda)") }
        guard maxIterations >= 1 else { throw TransportError.invalidParameter("max iterations must be ≥ 1, got \(maxIterations)") }
        guard tolerance.isFinite, tolerance > 0 else { throw TransportError.invalidParameter("tolerance must be > 0, got \(tolerance)") }
        guard supportTolerance.isFinite, supportTolerance >= 0, supportTolerance < 1 else {
            throw TransportError.invalidParameter("support tolerance must be in [0, 1), got \(supportTolerance)")
        }
        if solver == .joint, penalty == .nuclear {
            throw TransportError.invalidParameter(
                "the joint solver takes the l1 penalty or none; the nuclear norm needs the nested solver (solver nested or auto)")
        }
        return self
    }
}

/// What the estimator found, and how.
public struct InverseOTResult: Sendable, Codable, Equatable {
    /// θ̂: Â, dx × dy, for the bilinear family (the cost is c(x, y) = −xᵀÂy); the K × 1
    /// weights of c_θ = Σ_k θ_k c_k for a basis.
    public let interaction: Matrix<Double>
    /// Entries of Â above the support tolerance, row-major flags.
    public let support: [Bool]
    public var supportSize: Int { support.filter { $0 }.count }
    /// Singular values of Â above the support tolerance.
    public let rank: Int
    public let singularValues: [Double]
    /// L(Â) and L(Â) + λR(Â).
    public let loss: Double
    public let objective: Double
    /// The solver that ran (`automatic` resolved).
    public let solver: InverseOTSolver
    /// Quasi-Newton steps (joint) or proximal-gradient steps (nested).
    public let outerIterations: Int
    /// Sinkhorn iterations of the nested solver's inner runs (0 for the joint solver).
    public let sinkhornIterations: Int
    /// Passes over the n × n plan or cost (each a gemm and n² exponentials): the work of a fit
    /// whichever solver ran — a Sinkhorn iteration is two, a joint step or a moment pass one.
    public let planPasses: Int
    /// The stopping rule was met within the iteration cap: the gradient mapping at or below the
    /// tolerance and (joint) the plan's marginal error at or below the Sinkhorn threshold.
    public let converged: Bool
    /// ‖G‖_F / ‖E_π̂[c]‖_F at the last step.
    public let relativeGradientMapping: Double
    /// ‖P1 − b‖₁ of the plan behind the last gradient.
    public let marginalError: Double
    /// Inner Sinkhorn runs that stopped at their cap without meeting their threshold (nested).
    public let unconvergedSinkhornRuns: Int
    public let epsilon: Double
    public let lambda: Double
    public let penalty: InverseOTPenalty
}

/// The ℓ1- or nuclear-norm regularised inverse-OT estimator θ̂ = argmin_θ L(θ) + λR(θ)
/// (Andrade, Peyré & Poon, ICLR 2024, seed 004 "Sample complexity for iUOT").
///
/// The paper's optimiser is not public (REFERENCES Part A §3.1: UNVERIFIED). Two solvers reach
/// the same minimiser (`InverseOTSolver`): the joint one (OWL-QN over the cost parameters and a
/// potential, one plan pass a step; the default) and the nested one (FISTA with a converged
/// Sinkhorn per evaluation; the nuclear norm's). At ε = 1 on 1,000 pairs of seed 004's graph the
/// joint solver needed 105 passes where the nested one needed 119,379 (notes/bench/iot.md).
public enum InverseOTEstimator {
    public static func fit<Family: InverseOTCostFamily>(
        _ problem: Family, options rawOptions: InverseOTOptions = InverseOTOptions(),
        initial: Matrix<Double>? = nil
    ) throws -> InverseOTResult {
        let options = try rawOptions.validated()
        if let initial, initial.rows != problem.observedMoments.rows || initial.cols != problem.observedMoments.cols {
            throw TransportError.invalidParameter(
                "the initial parameters are \(initial.rows)×\(initial.cols), expected \(problem.observedMoments.rows)×\(problem.observedMoments.cols)")
        }
        switch options.solver.resolved(for: options.penalty) {
        case .nested: return try InverseOTNestedSolver.fit(problem, options: options, initial: initial)
        case .joint, .automatic: return try InverseOTJointSolver.fit(problem, options: options, initial: initial)
        }
    }
}

/// How a solver's run ended, before the support and rank are read off θ̂.
struct InverseOTRun {
    var solver: InverseOTSolver
    var loss: Double
    var outerIterations: Int
    var sinkhornIterations = 0
    var planPasses: Int
    var converged: Bool
    var relativeGradientMapping: Double
    var marginalError: Double
    var unconvergedSinkhornRuns = 0
}

extension InverseOTResult {
    /// The result of a run ending at θ̂ = `interaction`: support and rank at the support tolerance.
    init(_ interaction: Matrix<Double>, _ run: InverseOTRun, problem: some InverseOTCostFamily, options: InverseOTOptions) throws {
        let lambda = options.penalty == .none ? 0 : options.lambda
        let largest = interaction.storage.reduce(0) { Swift.max($0, Swift.abs($1)) }
        let singularValues = try interaction.thinSVD().singularValues
        self.init(
            interaction: interaction,
            support: interaction.storage.map { Swift.abs($0) > options.supportTolerance * largest && $0 != 0 },
            rank: singularValues.filter { $0 > options.supportTolerance * (singularValues.first ?? 0) && $0 > 0 }.count,
            singularValues: singularValues, loss: run.loss,
            objective: run.loss + lambda * (try options.penalty.value(interaction)), solver: run.solver,
            outerIterations: run.outerIterations, sinkhornIterations: run.sinkhornIterations, planPasses: run.planPasses,
            converged: run.converged, relativeGradientMapping: run.relativeGradientMapping, marginalError: run.marginalError,
            unconvergedSinkhornRuns: run.unconvergedSinkhornRuns, epsilon: problem.epsilon, lambda: lambda, penalty: options.penalty)
    }
}

/// αA + βB.
func combine(_ a: Matrix<Double>, _ alpha: Double, _ b: Matrix<Double>, _ beta: Double) -> Matrix<Double> {
    var result = a
    result.withUnsafeMutableBufferPointer { values in
        for k in values.indices { values[k] = alpha * a.storage[k] + beta * b.storage[k] }
    }
    return result
}

/// αA.
func scaled(_ a: Matrix<Double>, _ alpha: Double) -> Matrix<Double> {
    var result = a
    result.withUnsafeMutableBufferPointer { values in
        for k in values.indices { values[k] *= alpha }
    }
    return result
}

func inner(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Double {
    var total = 0.0
    for k in a.storage.indices { total += a.storage[k] * b.storage[k] }
    return total
}

func frobenius(_ a: Matrix<Double>) -> Double { inner(a, a).squareRoot() }
