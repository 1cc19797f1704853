import Foundation
import LinearAlgebra
import Progress
import Transport

/// The nested solver of the regularised inverse-OT estimator (`InverseOTEstimator`): FISTA
/// (Beck & Teboulle 2009) with backtracking on the step and O'Donoghue & Candès' (2015)
/// gradient restart: L is smooth and convex, R has a closed-form prox, and each outer step costs
/// one or two warm-started Sinkhorn solves run to their threshold. It takes every penalty, the
/// nuclear norm included; at small ε each solve needs thousands of iterations, which is what the
/// joint solver (`InverseOTJointSolver`) avoids. The first step is the family's `initialStep()`, the inverse curvature of
/// L at θ = 0 (for c_A, whose Hessian there is Σ_x ⊗ Σ_y / ε, it is ε/(λ_max(Σ_x)·λ_max(Σ_y))).
enum InverseOTNestedSolver {
    /// `options` validated and `initial` of θ's shape (`InverseOTEstimator.fit` checks both).
    static func fit<Family: InverseOTCostFamily>(
        _ problem: Family, options: InverseOTOptions, initial: Matrix<Double>?
    ) throws -> InverseOTResult {
        let rows = problem.observedMoments.rows, cols = problem.observedMoments.cols
        let lambda = options.penalty == .none ? 0 : options.lambda
        let scale = Swift.max(frobenius(problem.observedMoments), .leastNormalMagnitude)
        var step = try problem.initialStep()
        var current = initial ?? Matrix(rows: rows, cols: cols)
        var previous = current
        var momentum = 1.0
        var sinkhornIterations = 0, unconverged = 0, momentPasses = 0
        var marginalError = Double.infinity
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
            marginalError = result.marginalError
            if !result.converged { unconverged += 1 }
            warm = SinkhornPotentials(f: result.f, g: result.g)
        }

        while iterations < options.maxIterations {
            iterations += 1
            let nextMomentum = (1 + (1 + 4 * momentum * momentum).squareRoot()) / 2
            let weight = (momentum - 1) / nextMomentum
            let point = weight == 0 ? current : combine(current, 1 + weight, previous, -weight)
            let atPoint: InverseOTEvaluation
            momentPasses += 1
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
        let run = InverseOTRun(
            solver: .nested, loss: finalLoss, outerIterations: iterations, sinkhornIterations: sinkhornIterations,
            planPasses: 2 * sinkhornIterations + momentPasses, converged: converged, relativeGradientMapping: relativeMapping,
            marginalError: marginalError, unconvergedSinkhornRuns: unconverged)
        return try InverseOTResult(current, run, problem: problem, options: options)
    }
}
