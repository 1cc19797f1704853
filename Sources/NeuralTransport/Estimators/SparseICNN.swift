import Foundation
import LinearAlgebra
import Progress
import Transport

/// The map of a displacement-sparse ICNN, T(x) = ∇g(x), with what its λ search found.
public struct SparseICNNMap<Scalar: TransportScalar>: TransportMap, Equatable {
    public let g: ICNN<Scalar>
    public let penalty: DisplacementPenalty
    public let finalLambda: Double
    /// Sliced W₂ between T(x̂) and ŷ on the held evaluation sample.
    public let error: Double
    /// Mean number of coordinates with |T(x) − x|ᵢ > `movedTolerance` on the evaluation sample.
    public let meanMovedDimensions: Double
    public let movedTolerance: Double
    /// Mean |T(x) − x|ᵢ per coordinate on the evaluation sample.
    public let meanAbsoluteDisplacement: [Double]
    /// The dimension threshold l when trained in that mode, and whether a map met it.
    public let dimensionThreshold: Double?
    public let constraintMet: Bool
    public let annealingSteps: [LambdaAnnealing.Step]
    public let outerIterations: Int

    /// False when a dimension threshold was set and no map met it.
    public var converged: Bool { constraintMet }

    /// The kept λ, its Err (sliced W₂) and the mean number of coordinates it moves.
    public var diagnostics: [String: Double] {
        ["final_lambda": finalLambda, "sliced_w2": error, "moved_coordinates": meanMovedDimensions]
    }

    /// Coordinates by decreasing mean |T(x) − x|ᵢ.
    public func mostMovedCoordinates(_ count: Int) -> [Int] {
        Array(meanAbsoluteDisplacement.indices.sorted { meanAbsoluteDisplacement[$0] > meanAbsoluteDisplacement[$1] }.prefix(count))
    }

    public func transport(_ points: Matrix<Scalar>) throws -> Matrix<Scalar> {
        try validateQuery(points, dimension: g.inputDimension)
        return g.inputGradients(points)
    }
}

/// Displacement-sparse neural OT (Chen, Xie & Zhang 2025): ICNN-OT (`ICNNOTEstimator`, CellOT's
/// training) with λ·E_x[τ(∇g(x) − x)] added to g's loss, and λ searched during training.
///
/// - `.annealing` (the paper's low-dimensional mode): train `initIterations` at λ₀, then per
///   temperature of `annealing` propose λ', train `adjustIterations`, score
///   Eval = Err/Err₀ + β·Spa/Spa₀ (Err = sliced W₂ between T#x̂ and ŷ, Spa = mean τ(T(x) − x),
///   both on a fixed evaluation sample; Err₀, Spa₀ those after the initial phase), keep λ' by
///   the Metropolis rule, and on rejection train `smoothIterations` back at the kept λ.
/// - `.dimensionThreshold(l)` (the high-dimensional mode): train at λ₀, multiply λ by 1.5 and
///   train `adjustIterations` until the mean number of moved coordinates is ≤ l, then per
///   temperature propose a smaller λ' = λ(1 − r·U(0, 1)), train, keep it when the constraint
///   still holds (else train `smoothIterations` back at λ); the map returned is the one with the
///   lowest Err among those that met the constraint.
///
/// Defaults are the authors' code's (`PeterLauLukChen/DisNOT`): λ₀ = 5e-4, 20,000 initial and
/// 2,000 adjusting iterations, 2,000 smoothing iterations (their main loop's trial interval),
/// batch 128. β = 1 weighs the two normalised terms equally (their code's Eval weights raw
/// values instead); τ defaults to the smoothed ℓ0 with σ = 1.
public struct SparseICNNEstimator: MapEstimator, Equatable {
    public enum Mode: Sendable, Codable, Equatable {
        case annealing
        case dimensionThreshold(Double)
    }

    /// Network and optimiser settings; its `iterations` is unused (the phases below set the
    /// length of training).
    public var training: ICNNOTEstimator = {
        var settings = ICNNOTEstimator()
        settings.batchSize = 128
        return settings
    }()
    public var penalty: DisplacementPenalty = .smoothedL0(sigma: 1)
    public var mode: Mode = .annealing
    public var initialLambda = 5e-4
    public var initIterations = 20_000
    public var adjustIterations = 2_000
    public var smoothIterations = 2_000
    public var beta = 1.0
    public var annealing = LambdaAnnealing()
    /// |T(x) − x|ᵢ above this counts coordinate i as moved.
    public var movedTolerance = 0.1
    /// Source and target points (each) of the fixed evaluation sample.
    public var evaluationSize = 512
    public var projections = 100
    /// Upper bound on the ×1.5 raises of λ in `.dimensionThreshold` mode.
    public var maximumRaises = 40

    public init() {}

    public func fit(source: Matrix<Float>, target: Matrix<Float>, rng: inout SeededRNG) throws -> any TransportMap<Float> {
        try train(source, target, &rng)
    }

    public func fit(source: Matrix<Double>, target: Matrix<Double>, rng: inout SeededRNG) throws -> any TransportMap<Double> {
        try train(source, target, &rng)
    }

    /// Err, Spa, moved coordinates and per-coordinate mean |Δ| of the current map.
    struct Evaluation {
        let error: Double
        let sparsity: Double
        let movedDimensions: Double
        let meanAbsoluteDisplacement: [Double]
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func train<Scalar: TransportScalar>(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>, _ rng: inout SeededRNG) throws -> SparseICNNMap<Scalar> {
        try BLASThreads.withSingleThread { try search(x, y, &rng) }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private func search<Scalar: TransportScalar>(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>, _ rng: inout SeededRNG) throws -> SparseICNNMap<Scalar> {
        try validateSettings()
        var run = try ICNNOTTraining(settings: training, source: x, target: y, rng: &rng)
        run.displacementPenalty = penalty
        run.lambda = initialLambda
        // The most outer iterations the search can take; it often stops short of it.
        var raises = 0
        if case .dimensionThreshold = mode { raises = maximumRaises * adjustIterations }
        run.reporter = TrainingReporter(
            method: "sparse_icnn",
            steps: initIterations + raises + annealing.temperatures.count * (adjustIterations + smoothIterations))
        let size = Swift.min(evaluationSize, x.rows, y.rows)
        let sampleX = x.rows(at: (0..<size).map { _ in rng.bounded(x.rows) })
        let sampleY = y.rows(at: (0..<size).map { _ in rng.bounded(y.rows) })
        let sliced = SlicedWasserstein<Scalar>(dimension: x.cols, projections: projections, rng: &rng)
        let (penalty, tolerance) = (self.penalty, movedTolerance)
        func evaluate(_ g: ICNN<Scalar>) -> Evaluation {
            let mapped = g.inputGradients(sampleX)
            let displacement = mapped - sampleX
            var moved = 0, absolute = [Double](repeating: 0, count: x.cols)
            for i in 0..<size {
                for (j, value) in displacement.row(i).enumerated() {
                    let magnitude = Double(abs(value))
                    absolute[j] += magnitude / Double(size)
                    if magnitude > tolerance { moved += 1 }
                }
            }
            return Evaluation(error: sliced.distance(mapped, sampleY), sparsity: penalty.meanValue(displacement),
                              movedDimensions: Double(moved) / Double(size), meanAbsoluteDisplacement: absolute)
        }
        var iterations = 0
        func train(_ count: Int, at lambda: Double) {
            run.lambda = lambda
            run.run(iterations: count, rng: &rng)
            iterations += count
        }
        train(initIterations, at: initialLambda)

        var kept = (g: run.g, lambda: initialLambda, evaluation: evaluate(run.g))
        var steps: [LambdaAnnealing.Step] = []
        var constraintMet = true
        switch mode {
        case .annealing:
            let reference = kept.evaluation
            func eval(_ e: Evaluation) -> Double {
                e.error / Swift.max(reference.error, .leastNormalMagnitude)
                    + beta * e.sparsity / Swift.max(reference.sparsity, .leastNormalMagnitude)
            }
            // Proposals and Metropolis draws get their own stream: training draws batches meanwhile.
            var annealingRNG = SeededRNG(seed: rng.next())
            let result = annealing.run(
                from: initialLambda, eval: eval(reference), rng: &annealingRNG,
                trial: { lambda in train(adjustIterations, at: lambda); return eval(evaluate(run.g)) },
                revert: { lambda in train(smoothIterations, at: lambda); return eval(evaluate(run.g)) })
            steps = result.steps
            kept = (run.g, result.lambda, evaluate(run.g))
        case .dimensionThreshold(let limit):
            var lambda = initialLambda, current = kept.evaluation, raises = 0
            while current.movedDimensions > limit && raises < maximumRaises {
                lambda *= 1.5
                raises += 1
                train(adjustIterations, at: lambda)
                current = evaluate(run.g)
            }
            constraintMet = current.movedDimensions <= limit
            var best = constraintMet ? (g: run.g, lambda: lambda, evaluation: current) : nil
            for temperature in annealing.temperatures where constraintMet {
                let radius = Swift.max(0.01, exp(-3 * (1 - temperature)))
                let proposed = lambda * (1 - radius * rng.uniform())
                train(adjustIterations, at: proposed)
                let trial = evaluate(run.g)
                let accepted = trial.movedDimensions <= limit
                steps.append(LambdaAnnealing.Step(
                    temperature: temperature, currentLambda: lambda, proposedLambda: proposed,
                    currentEval: current.movedDimensions, proposedEval: trial.movedDimensions, uniform: nil, accepted: accepted))
                if accepted {
                    lambda = proposed
                    current = trial
                } else {
                    train(smoothIterations, at: lambda)
                    current = evaluate(run.g)
                }
                if current.movedDimensions <= limit, current.error < best?.evaluation.error ?? .infinity {
                    best = (run.g, lambda, current)
                }
            }
            kept = best ?? (run.g, lambda, current)
        }
        return SparseICNNMap(
            g: kept.g, penalty: penalty, finalLambda: kept.lambda, error: kept.evaluation.error,
            meanMovedDimensions: kept.evaluation.movedDimensions, movedTolerance: movedTolerance,
            meanAbsoluteDisplacement: kept.evaluation.meanAbsoluteDisplacement,
            dimensionThreshold: { if case .dimensionThreshold(let l) = mode { return l } else { return nil } }(),
            constraintMet: constraintMet, annealingSteps: steps, outerIterations: iterations)
    }

    private func validateSettings() throws {
        guard initialLambda > 0, initialLambda.isFinite else {
            throw TransportError.invalidParameter("sparse ICNN needs λ₀ > 0, got \(initialLambda)")
        }
        guard initIterations >= 1, adjustIterations >= 1, smoothIterations >= 0 else {
            throw TransportError.invalidParameter("sparse ICNN needs init and adjust iterations ≥ 1 and smooth iterations ≥ 0")
        }
        guard beta >= 0, movedTolerance > 0, evaluationSize >= 2, projections >= 1 else {
            throw TransportError.invalidParameter("sparse ICNN needs β ≥ 0, a positive moved tolerance, an evaluation size ≥ 2 and ≥ 1 projection")
        }
        switch penalty {
        case .l1: break
        case .smoothedL0(let width), .stvs(let width):
            guard width > 0, width.isFinite else {
                throw TransportError.invalidParameter("the \(penalty.name) penalty needs a positive width, got \(width)")
            }
        }
        if case .dimensionThreshold(let limit) = mode, !(limit >= 0) {
            throw TransportError.invalidParameter("the dimension threshold must be ≥ 0, got \(limit)")
        }
    }
}
