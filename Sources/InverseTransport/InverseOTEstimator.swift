import Foundation
import LinearAlgebra
import Progress
import Transport

/// Settings of the regularised inverse-OT estimator.
public struct InverseOTOptions: Sendable, Codable, Equatable {
    public var penalty: InverseOTPenalty = .l1
    /// λ of argmin L(A) + λ·R(A).
    public var lambda: Double = 0
    /// Outer (proximal-gradient) steps at most.
    public var maxIterations: Int = 2000
    /// Stop when ‖G_s(Y)‖_F ≤ tolerance · ‖E_π̂[c]‖_F (‖(1/n)XᵀY‖_F for the bilinear family), with G_s(Y) = (Y − prox_{sλR}(Y − s∇L(Y)))/s
    /// the gradient mapping at the extrapolated point (zero exactly at a minimiser).
    public var tolerance: Double = 1e-5
    /// An entry belongs to the support when |A_ij| > supportTolerance · max|A|; a singular value
    /// counts toward the rank when σ_k > supportTolerance · σ_max.
    public var supportTolerance: Double = 1e-6
    /// The inner Sinkhorn (threshold, cap); its ε is the problem's.
    public var sinkhorn: SinkhornOptions = InverseOTProblem.defaultSinkhorn

    public init(penalty: InverseOTPenalty = .l1, lambda: Double = 0, maxIterations: Int = 2000, tolerance: Double = 1e-5,
                supportTolerance: Double = 1e-6, sinkhorn: SinkhornOptions = InverseOTProblem.defaultSinkhorn) {
        self.penalty = penalty
        self.lambda = lambda
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.supportTolerance = supportTolerance
        self.sinkhorn = sinkhorn
    }

    func validated() throws -> InverseOTOptions {
        guard lambda.isFinite, lambda >= 0 else { throw TransportError.invalidParameter("lambda must be ≥ 0, got \(lambda)") }
        guard maxIterations >= 1 else { throw TransportError.invalidParameter("max iterations must be ≥ 1, got \(maxIterations)") }
        guard tolerance.isFinite, tolerance > 0 else { throw TransportError.invalidParameter("tolerance must be > 0, got \(tolerance)") }
        guard supportTolerance.isFinite, supportTolerance >= 0, supportTolerance < 1 else {
            throw TransportError.invalidParameter("support tolerance must be in [0, 1), got \(supportTolerance)")
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
    public let outerIterations: Int
    public let sinkhornIterations: Int
    /// The gradient-mapping rule was met within the iteration cap.
    public let converged: Bool
    /// ‖G‖_F / ‖(1/n)XᵀY‖_F at the last step.
    public let relativeGradientMapping: Double
    /// Inner Sinkhorn runs that stopped at their cap without meeting their threshold.
    public let unconvergedSinkhornRuns: Int
    public let epsilon: Double
    public let lambda: Double
    public let penalty: InverseOTPenalty
}

/// The ℓ1- or nuclear-norm regularised inverse-OT estimator θ̂ = argmin_θ L(θ) + λR(θ)
/// (Andrade, Peyré & Poon, ICLR 2024, seed 004 "Sample complexity for iUOT").
///
/// The paper's optimiser is not public (REFERENCES Part A §3.1: UNVERIFIED). This one is FISTA
/// (Beck & Teboulle 2009) with backtracking on the step and O'Donoghue & Candès' (2015)
/// gradient restart: L is smooth and convex, R has a closed-form prox, and each outer step costs
/// one or two warm-started Sinkhorn solves, fewer than a joint L-BFGS over (θ, f, g) needs in
/// memory and tuning. The first step is the family's `initialStep()`, the inverse curvature of
/// L at θ = 0 (for c_A, whose Hessian there is Σ_x ⊗ Σ_y / ε, it is ε/(λ_max(Σ_x)·λ_max(Σ_y))).
public enum InverseOTEstimator {
    public static func fit<Family: InverseOTCostFamily>(
        _ problem: Family, options rawOptions: InverseOTOptions = InverseOTOptions(),
        initial: Matrix<Double>? = nil
    ) throws -> InverseOTResult {
        let options = try rawOptions.validated()
        let rows = problem.observedMoments.rows, cols = problem.observedMoments.cols
        if let initial, initial.rows != rows || initial.cols != cols {
            throw TransportError.invalidParameter("the initial parameters are \(initial.rows)×\(initial.cols), expected \(rows)×\(cols)")
        }
        let lambda = options.penalty == .none ? 0 : options.lambda
        let scale = Swift.max(frobenius(problem.observedMoments), .leastNormalMagnitude)
        var step = try problem.initialStep()
        var current = initial ?? Matrix(rows: rows, cols: cols)
        var previous = current
        var momentum = 1.0
        var sinkhornIterations = 0, unconverged = 0
        var warm: SinkhornPotentials<Double>?
        // The Sinkhorn run at `current` (its gradient is computed only if the next extrapolated
        // point is `current` itself, after a restart).
        var atCurrent: (loss: Double, result: SinkhornResult<Double>)?
        var relativeMapping = Double.infinity
        var converged = false
        var iterations = 0
        var reporter = TrainingReporter(method: "iot", steps: options.maxIterations)

        func record(_ result: SinkhornResult<Double>) {
            sinkhornIterations += result.iterations
            if !result.converged { unconverged += 1 }
            warm = SinkhornPotentials(f: result.f, g: result.g)
        }

        while iterations < options.maxIterations {
            iterations += 1
            let nextMomentum = (1 + (1 + 4 * momentum * momentum).squareRoot()) / 2
            let weight = (momentum - 1) / nextMomentum
            let point = weight == 0 ? current : combine(current, 1 + weight, previous, -weight)
            let atPoint: InverseOTEvaluation
            if weight == 0, let cached = atCurrent {
                atPoint = try problem.evaluation(point, loss: cached.loss, cached.result)
            } else {
                atPoint = try problem.evaluate(point, sinkhorn: options.sinkhorn, warmStart: warm)
                sinkhornIterations += atPoint.sinkhornIterations
                if !atPoint.sinkhornConverged { unconverged += 1 }
                warm = atPoint.potentials
            }
            // Backtracking: shrink the step until the quadratic model at `point` bounds L.
            var candidate: Matrix<Double>
            var candidateLoss: (loss: Double, result: SinkhornResult<Double>)
            while true {
                candidate = try options.penalty.proximal(combine(point, 1, atPoint.gradient, -step), threshold: step * lambda)
                candidateLoss = try problem.loss(candidate, sinkhorn: options.sinkhorn, warmStart: atPoint.potentials)
                record(candidateLoss.result)
                let difference = combine(candidate, 1, point, -1)
                let model = atPoint.loss + inner(atPoint.gradient, difference) + inner(difference, difference) / (2 * step)
                let slack = 1e-12 * Swift.max(1, Swift.abs(atPoint.loss))
                if candidateLoss.loss <= model + slack { break }
                step /= 2
                guard step > 1e-30 else {
                    throw TransportError.invalidParameter("inverse OT: the step size collapsed (the inner Sinkhorn is too loose for the outer descent)")
                }
            }
            let mappingStep = combine(point, 1, candidate, -1)
            relativeMapping = frobenius(mappingStep) / step / scale
            // Restart when the step goes against the momentum.
            let restart = inner(mappingStep, combine(candidate, 1, current, -1)) > 0
            previous = current
            current = candidate
            atCurrent = candidateLoss
            momentum = restart ? 1 : nextMomentum
            if TrainingProgress.isObserved, reporter.isDue(iterations) {
                reporter.report(step: iterations, loss: candidateLoss.loss + lambda * (try options.penalty.value(current)))
            }
            if relativeMapping <= options.tolerance {
                converged = true
                break
            }
        }
        let finalLoss = try atCurrent?.loss ?? problem.loss(current, sinkhorn: options.sinkhorn, warmStart: warm).loss
        let largest = current.storage.reduce(0) { Swift.max($0, Swift.abs($1)) }
        let support = current.storage.map { Swift.abs($0) > options.supportTolerance * largest && $0 != 0 }
        let singularValues = try current.thinSVD().singularValues
        let rank = singularValues.filter { $0 > options.supportTolerance * (singularValues.first ?? 0) && $0 > 0 }.count
        return InverseOTResult(
            interaction: current, support: support, rank: rank, singularValues: singularValues, loss: finalLoss,
            objective: finalLoss + lambda * (try options.penalty.value(current)), outerIterations: iterations,
            sinkhornIterations: sinkhornIterations, converged: converged, relativeGradientMapping: relativeMapping,
            unconvergedSinkhornRuns: unconverged, epsilon: problem.epsilon, lambda: lambda, penalty: options.penalty)
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
