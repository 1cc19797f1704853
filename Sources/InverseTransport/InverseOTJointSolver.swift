import Foundation
import LinearAlgebra
import Progress
import Transport

/// The joint solver of the regularised inverse-OT estimator (`InverseOTEstimator`): one convex
/// problem over the cost parameters θ and the target potential g together, with no inner Sinkhorn.
///
/// Seed 004 writes the loss as an infimum over (f, g) of a function jointly convex in (θ, f, g),
///   F(θ, f, g) = ⟨c_θ, π̂⟩ − ⟨f, a⟩ − ⟨g, b⟩ + ε⟨exp((f ⊕ g − C_θ)/ε), a⊗b⟩,
/// so L(θ) + λR(θ) = min_{f,g} F + λR. Its minimum in f alone is closed-form (Sinkhorn's row
/// update), which leaves the semi-dual Φ(θ, g) = min_f F: smooth and jointly convex, with
///   ∇_θ Φ = E_π̂[c] − E_P[c],  ∇_g Φ = P1 − b  (P the plan at (θ, f(θ, g), g)),
/// all from one pass over the plan (`InverseOTCostFamily.semiDualPass`). The ℓ1 penalty on θ
/// makes the objective non-smooth only on θ's orthant boundaries, which OWL-QN handles (Andrew &
/// Gao, ICML 2007: L-BFGS on the pseudo-gradient, steps projected onto the current orthant).
///
/// Where the nested solver runs Sinkhorn to its threshold at every point FISTA evaluates (at
/// ε = 1 about 1,700 iterations each), the quasi-Newton memory here learns the slow directions of
/// g and θ together, so a fit costs about as many plan passes as it takes steps. Measured on seed
/// 004's graph at ε = 1, n = 1,000: 105 passes against 119,379 (notes/bench/iot.md).
///
/// g is scaled to u = g/σ with σ = √(n·ε/s₀) (s₀ the family's `initialStep()`): the curvature of
/// Φ in each g_j is about 1/(nε) and in θ about 1/s₀, and L-BFGS's first steps assume one scale.
/// It stops when the plan's marginal error is at most the Sinkhorn threshold and the gradient
/// mapping of θ, ‖θ − prox_{s₀λR}(θ − s₀∇_θΦ)‖/s₀, is at most `tolerance`·‖E_π̂[c]‖ — then ∇_θΦ
/// is ∇L(θ) up to that marginal error, and the rule is the nested solver's.
enum InverseOTJointSolver {
    /// L-BFGS pairs kept: at ε = 1, n = 10³ a fit took 125 passes with 20 pairs and 105 with 40; at
    /// n = 10⁴ (seed 1 of the graph experiment) 247 and 213. Two-loop work is 4·40·n, small next to a pass.
    static let memory = 40
    /// Armijo's sufficient-decrease fraction.
    static let sufficientDecrease = 1e-4
    /// Φ's rounding relative to the magnitude of its terms (a few hundred ulps).
    static let roundingSlack = 1e-13

    /// `options` validated, penalty ℓ1 or none, `initial` of θ's shape.
    static func fit<Family: InverseOTCostFamily>(
        _ problem: Family, options: InverseOTOptions, initial: Matrix<Double>?
    ) throws -> InverseOTResult {
        precondition(options.penalty != .nuclear, "the joint solver takes the l1 penalty or none")
        let rows = problem.observedMoments.rows, cols = problem.observedMoments.cols
        var objective = try JointObjective(problem, lambda: options.penalty == .none ? 0 : options.lambda)
        var point = try objective.evaluate(initial?.storage ?? [Double](repeating: 0, count: rows * cols) +
                                           [Double](repeating: 0, count: problem.pairs))
        var history = CurvaturePairs(capacity: memory)
        var reporter = TrainingReporter(method: "iot", steps: options.maxIterations)
        var mapping = objective.relativeGradientMapping(at: point)
        var converged = false
        var iterations = 0
        while true {
            if point.marginalError <= options.sinkhorn.threshold, mapping <= options.tolerance {
                converged = true
                break
            }
            guard iterations < options.maxIterations else { break }
            iterations += 1
            let pseudoGradient = objective.pseudoGradient(at: point)
            var next = try lineSearch(&objective, from: point, pseudoGradient: pseudoGradient, history: history)
            if next == nil, !history.isEmpty {
                // The quasi-Newton direction found no decrease: forget the curvature and take the
                // (scaled) steepest descent.
                history.removeAll()
                next = try lineSearch(&objective, from: point, pseudoGradient: pseudoGradient, history: history)
            }
            guard let next else { break }  // no decrease left at rounding level: not converged
            history.append(step: difference(next.z, point.z), gradientChange: difference(next.gradient, point.gradient))
            point = next
            mapping = objective.relativeGradientMapping(at: point)
            if TrainingProgress.isObserved, reporter.isDue(iterations) {
                reporter.report(step: iterations, loss: point.value)
            }
        }
        let run = InverseOTRun(
            solver: .joint, loss: point.smooth, outerIterations: iterations, planPasses: objective.passes,
            converged: converged, relativeGradientMapping: mapping, marginalError: point.marginalError)
        return try InverseOTResult(try Matrix(rows: rows, cols: cols, storage: Array(point.z[0..<objective.parameterCount])),
                                   run, problem: problem, options: options)
    }

    /// Backtracking from the full quasi-Newton step along the orthant-projected path; nil when
    /// 40 halvings find no sufficient decrease.
    static func lineSearch<Family>(
        _ objective: inout JointObjective<Family>, from point: JointPoint, pseudoGradient: [Double], history: CurvaturePairs
    ) throws -> JointPoint? {
        let p = objective.parameterCount
        var direction = history.inverseHessianTimes(pseudoGradient, initialScale: objective.initialStep)
        for k in direction.indices { direction[k] = -direction[k] }
        // OWL-QN: a penalised coordinate may only move against its pseudo-gradient.
        if objective.lambda > 0 {
            for k in 0..<p where direction[k] * pseudoGradient[k] >= 0 { direction[k] = 0 }
        }
        var slope = 0.0
        for k in direction.indices { slope += direction[k] * pseudoGradient[k] }
        guard slope < 0 else { return nil }
        // The orthant the step stays in: θ's signs, and for θ_k = 0 the sign of the descent.
        let orthant = (0..<p).map { k -> Double in
            let value = point.z[k]
            return value != 0 ? (value > 0 ? 1 : -1) : (pseudoGradient[k] < 0 ? 1 : (pseudoGradient[k] > 0 ? -1 : 0))
        }
        var alpha = 1.0
        for _ in 0..<40 {
            var z = point.z
            for k in z.indices { z[k] += alpha * direction[k] }
            if objective.lambda > 0 {
                for k in 0..<p where z[k] * orthant[k] <= 0 { z[k] = 0 }
            }
            let candidate = try objective.evaluate(z)
            var decrease = 0.0
            for k in z.indices { decrease += pseudoGradient[k] * (z[k] - point.z[k]) }
            if candidate.value <= point.value + sufficientDecrease * decrease { return candidate }
            // Near the minimum the decrease Armijo asks for falls below the rounding of Φ (a
            // marginal error of 10⁻⁸ moves Φ by ~10⁻¹⁵ at n = 1,000, ε = 1): there a step that
            // keeps Φ within rounding and shrinks the pseudo-gradient is progress.
            if candidate.value <= point.value + roundingSlack * point.magnitude,
               norm(objective.pseudoGradient(at: candidate)) < norm(pseudoGradient) {
                return candidate
            }
            alpha /= 2
        }
        return nil
    }
}

/// Φ(θ, g) + λ‖θ‖₁ over z = (θ row-major, u = g/σ), evaluated by semi-dual passes.
struct JointObjective<Family: InverseOTCostFamily> {
    let problem: Family
    let lambda: Double
    let parameterCount: Int
    /// g = σ·u.
    let sigma: Double
    /// s₀ of the gradient mapping, and L-BFGS's scale before it has a curvature pair.
    let initialStep: Double
    /// ‖E_π̂[c]‖_F, the gradient mapping's scale.
    let scale: Double
    /// Plan passes made so far: one per `evaluate`.
    private(set) var passes = 0

    init(_ problem: Family, lambda: Double) throws {
        self.problem = problem
        self.lambda = lambda
        parameterCount = problem.observedMoments.storage.count
        initialStep = try problem.initialStep()
        sigma = (Double(problem.pairs) * problem.epsilon / initialStep).squareRoot()
        scale = Swift.max(frobenius(problem.observedMoments), .leastNormalMagnitude)
    }

    mutating func evaluate(_ z: [Double]) throws -> JointPoint {
        let p = parameterCount, n = problem.pairs
        let theta = try Matrix(rows: problem.observedMoments.rows, cols: problem.observedMoments.cols, storage: Array(z[0..<p]))
        let g = z[p...].map { sigma * $0 }
        let (pass, planMoments) = try problem.semiDualPass(theta, g: g)
        passes += 1
        let linear = inner(theta, problem.observedMoments)
        let meanF = pass.f.reduce(0, +) / Double(n), meanG = g.reduce(0, +) / Double(n)
        let smooth = linear - meanF - meanG + problem.epsilon
        var gradient = [Double](repeating: 0, count: z.count)
        for k in 0..<p { gradient[k] = problem.observedMoments.storage[k] - planMoments.storage[k] }
        let b = 1 / Double(n)
        for j in 0..<n { gradient[p + j] = sigma * (pass.columnMass[j] - b) }
        let penalty = try InverseOTPenalty.l1.value(theta)
        guard smooth.isFinite, gradient.allSatisfy(\.isFinite) else {
            throw TransportError.invalidParameter(
                "inverse OT: the plan overflowed at ε = \(problem.epsilon) (the cost parameters grew past what exp can hold)")
        }
        let magnitude = Swift.abs(linear) + pass.f.reduce(0) { $0 + Swift.abs($1) } / Double(n)
            + g.reduce(0) { $0 + Swift.abs($1) } / Double(n) + problem.epsilon + lambda * penalty
        return JointPoint(z: z, smooth: smooth, value: smooth + lambda * penalty, gradient: gradient,
                          marginalError: pass.marginalError, magnitude: magnitude)
    }

    /// The minimal-norm subgradient of Φ + λ‖θ‖₁ (Andrew & Gao's pseudo-gradient).
    func pseudoGradient(at point: JointPoint) -> [Double] {
        var result = point.gradient
        guard lambda > 0 else { return result }
        for k in 0..<parameterCount {
            let value = point.z[k], slope = point.gradient[k]
            if value > 0 {
                result[k] = slope + lambda
            } else if value < 0 {
                result[k] = slope - lambda
            } else {
                result[k] = slope + lambda < 0 ? slope + lambda : (slope - lambda > 0 ? slope - lambda : 0)
            }
        }
        return result
    }

    /// ‖θ − prox_{s₀λ‖·‖₁}(θ − s₀∇_θΦ)‖ / s₀ / ‖E_π̂[c]‖.
    func relativeGradientMapping(at point: JointPoint) -> Double {
        var total = 0.0
        for k in 0..<parameterCount {
            let moved = softThreshold(point.z[k] - initialStep * point.gradient[k], initialStep * lambda)
            total += (point.z[k] - moved) * (point.z[k] - moved)
        }
        return total.squareRoot() / initialStep / scale
    }
}

/// One evaluated point of the joint objective.
struct JointPoint {
    let z: [Double]
    /// Φ(θ, g).
    let smooth: Double
    /// Φ + λ‖θ‖₁.
    let value: Double
    /// ∇Φ in z's coordinates.
    let gradient: [Double]
    let marginalError: Double
    /// Σ of the terms' magnitudes: the scale of Φ's rounding.
    let magnitude: Double
}

/// The last L-BFGS curvature pairs (s, y) and the two-loop product H·v (Nocedal & Wright,
/// Numerical Optimization, Algorithm 7.4).
struct CurvaturePairs {
    let capacity: Int
    private var steps: [[Double]] = []
    private var changes: [[Double]] = []
    private var curvatures: [Double] = []

    init(capacity: Int) { self.capacity = capacity }

    var isEmpty: Bool { steps.isEmpty }

    mutating func removeAll() {
        steps.removeAll()
        changes.removeAll()
        curvatures.removeAll()
    }

    /// Keeps (s, y) when sᵀy > 0 (the objective is convex, so only rounding makes it fail).
    mutating func append(step: [Double], gradientChange: [Double]) {
        let curvature = dot(step, gradientChange)
        guard curvature > 1e-16 * dot(gradientChange, gradientChange), curvature > 0 else { return }
        if steps.count == capacity {
            steps.removeFirst()
            changes.removeFirst()
            curvatures.removeFirst()
        }
        steps.append(step)
        changes.append(gradientChange)
        curvatures.append(curvature)
    }

    /// H·v, with H₀ = (sᵀy/yᵀy)·I from the newest pair, or `initialScale`·I before any.
    func inverseHessianTimes(_ v: [Double], initialScale: Double) -> [Double] {
        var q = v
        var alphas = [Double](repeating: 0, count: steps.count)
        for i in steps.indices.reversed() {
            let alpha = dot(steps[i], q) / curvatures[i]
            alphas[i] = alpha
            for k in q.indices { q[k] -= alpha * changes[i][k] }
        }
        let gamma = changes.last.map { curvatures[curvatures.count - 1] / dot($0, $0) } ?? initialScale
        for k in q.indices { q[k] *= gamma }
        for i in steps.indices {
            let beta = dot(changes[i], q) / curvatures[i]
            for k in q.indices { q[k] += (alphas[i] - beta) * steps[i][k] }
        }
        return q
    }
}

private func dot(_ a: [Double], _ b: [Double]) -> Double {
    var total = 0.0
    for k in a.indices { total += a[k] * b[k] }
    return total
}

private func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }

private func difference(_ a: [Double], _ b: [Double]) -> [Double] {
    var result = a
    for k in result.indices { result[k] -= b[k] }
    return result
}
