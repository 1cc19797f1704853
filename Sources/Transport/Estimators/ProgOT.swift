import Foundation
import LinearAlgebra
import Progress

/// Step sizes α_1 … α_K of ProgOT (Kassraie et al., "Progressive Entropic Optimal Transport
/// Solvers", NeurIPS 2024, Sec. 4; OTT-JAX's `get_alpha_schedule`).
public enum AlphaSchedule: String, Sendable, Codable, CaseIterable {
    /// α_k = 1/(K − k + 1): constant speed; the last step goes all the way (α_K = 1).
    case lin
    /// α_k = 1/e: decelerating; never reaches the target exactly.
    case exp
    /// α_k = (2k + 1)/((K + 1)² − k²): accelerating; α_K = 1.
    case quad

    public func alphas(steps: Int) -> [Double] {
        guard steps > 0 else { return [] }
        let total = Double(steps)
        return (1...steps).map { step in
            let k = Double(step)
            switch self {
            case .lin: return 1 / (total - k + 1)
            case .exp: return 1 / M_E
            case .quad: return (2 * k + 1) / ((total + 1) * (total + 1) - k * k)
            }
        }
    }
}

/// How ProgOT picks ε at each step.
public enum ProgOTEpsilon: Sendable, Codable, Equatable {
    /// The paper's Algorithm 4: the end ε is tuned on held-out target points
    /// (`EpsilonTuning`), the start ε is `startScale` × OTT's default ε of the (x, y) cost, and
    /// step k uses ε_k = t_{k−1}·ε_end + (1 − t_{k−1})·ε_start with t_0 = 0 and
    /// t_j = 1 − Π_{i≤j}(1 − α_i), the fraction of the way covered before step k.
    case scheduled(tuning: EpsilonTuning, startScale: Double)
    /// One given ε per step.
    case fixed([Double])
}

/// ProgOT: K entropic steps, each moving the points a fraction α_k of the way along its map:
/// x_{k+1} = (1 − α_k)·x_k + α_k·T_k(x_k), where T_k is the entropic map (or the debiased map)
/// of the problem from the current points x_k to the target at ε_k. New points are moved by the
/// same recursion with the stored steps, so the fitted map is replayable.
public struct ProgOTEstimator: MapEstimator, Equatable {
    public var steps: Int
    public var alpha: AlphaSchedule
    public var epsilon: ProgOTEpsilon
    /// Use the debiased map (`DebiasedEntropicMap`) at every step.
    public var debiased: Bool
    /// Start each step's Sinkhorn from the previous step's potentials × (1 − α), as OTT-JAX.
    public var warmStart: Bool
    /// Threshold, iteration limit and mode of every Sinkhorn run; its threshold is the last
    /// step's (and the ε search's).
    public var sinkhorn: SinkhornOptions
    /// Per-step threshold schedule: step 1 stops at this L1 marginal error and the threshold
    /// falls geometrically to `sinkhorn.threshold` at step K, so the early steps, whose maps
    /// only move the points a fraction α of the way at a large ε, are not solved tighter than
    /// they need. nil: every step uses `sinkhorn.threshold` (OTT-JAX's behaviour).
    public var startThreshold: Double?
    /// The ground cost of every step (default ‖x − y‖²). For a translation-invariant cost the
    /// steps still interpolate linearly, x ← (1 − α)·x + α·T(x): with c = h(x − y), h strictly
    /// convex, optimal displacements run along straight lines (McCann interpolation), which is
    /// what OTT-JAX's `PNormP` barycenter with weights (1 − α, α) gives as well. Debiased steps
    /// need the squared-Euclidean cost.
    public var cost: GroundCost
    /// Start at the tuned end ε when it is larger than the start ε, so the schedule stays flat
    /// instead of rising (the paper's schedule falls from a large start ε; OTT-JAX's
    /// `get_epsilon_schedule` interpolates either way). Measured in `notes/progot/start-clamp.md`.
    public var startAtLeastEnd = false

    /// The defaults (K = 4 accelerating `quad` steps, warm starts, thresholds 10⁻² → 10⁻³) come
    /// from the project's benchmarks (`notes/progot/investigation.md`): on each of them more
    /// steps cost more and gave larger errors (K = 2, and K = 1, which is untuned EOT, did better
    /// still; K = 4 is kept as the smallest K the paper runs); `quad` beat `lin` on the Gaussian
    /// and GMM map errors and on the demo's mean rank; warm starts and the threshold schedule cut
    /// the Sinkhorn iterations 2–3× without changing the error. The paper's blurred-image
    /// experiment runs K = 4 with `lin`. OTT-JAX's own defaults are no warm start and one
    /// threshold for every step.
    public init(
        steps: Int = 4, alpha: AlphaSchedule = .quad,
        epsilon: ProgOTEpsilon = .scheduled(tuning: EpsilonTuning(), startScale: 1),
        debiased: Bool = false, warmStart: Bool = true, sinkhorn: SinkhornOptions = SinkhornOptions(),
        startThreshold: Double? = 1e-2, cost: GroundCost = .squaredEuclidean
    ) {
        self.cost = cost
        self.steps = steps
        self.alpha = alpha
        self.epsilon = epsilon
        self.debiased = debiased
        self.warmStart = warmStart
        self.sinkhorn = sinkhorn
        self.startThreshold = startThreshold
    }

    /// ε_k = t_{k−1}·end + (1 − t_{k−1})·start for k = 1 … K (see `ProgOTEpsilon.scheduled`).
    public static func epsilonSchedule(alphas: [Double], start: Double, end: Double) -> [Double] {
        var remaining = 1.0  // Π_{i<k}(1 − α_i)
        return alphas.map { alpha in
            let covered = 1 - remaining
            remaining *= 1 - alpha
            return covered * end + (1 - covered) * start
        }
    }

    /// The threshold of each of `steps` steps: `start` at step 1 falling geometrically to `end`
    /// at step K (all `end` when `start` is nil or there is one step).
    public static func thresholdSchedule(steps: Int, start: Double?, end: Double) -> [Double] {
        guard let start, steps > 1 else { return Array(repeating: end, count: steps) }
        let ratio = Foundation.log(end / start) / Double(steps - 1)
        return (0..<steps).map { k in k == steps - 1 ? end : start * Foundation.exp(ratio * Double(k)) }
    }

    public func fit(source: Matrix<Float>, target: Matrix<Float>, rng: inout SeededRNG) throws -> any TransportMap<Float> {
        try fitGeneric(source, target, &rng).map
    }

    public func fit(source: Matrix<Double>, target: Matrix<Double>, rng: inout SeededRNG) throws -> any TransportMap<Double> {
        try fitGeneric(source, target, &rng).map
    }

    /// The fitted map together with the iterates x_1 … x_K of the training source points.
    public func fitWithTrajectory(source: Matrix<Float>, target: Matrix<Float>, rng: inout SeededRNG) throws -> ProgOTFit<Float> {
        try fitGeneric(source, target, &rng)
    }

    public func fitWithTrajectory(source: Matrix<Double>, target: Matrix<Double>, rng: inout SeededRNG) throws -> ProgOTFit<Double> {
        try fitGeneric(source, target, &rng)
    }

    func fitGeneric<Scalar: TransportScalar>(
        _ x: Matrix<Scalar>, _ y: Matrix<Scalar>, _ rng: inout SeededRNG
    ) throws -> ProgOTFit<Scalar> {
        try Sinkhorn.validate(x, y)
        guard steps >= 1 else { throw TransportError.invalidParameter("ProgOT needs at least 1 step, got \(steps)") }
        if let startThreshold {
            guard startThreshold.isFinite, startThreshold > 0 else {
                throw TransportError.invalidParameter("ProgOT start threshold must be positive, got \(startThreshold)")
            }
        }
        _ = try cost.validated()
        if debiased && cost != .squaredEuclidean {
            throw TransportError.invalidParameter("debiased ProgOT steps need the sqeuclidean cost, not \(cost.name)")
        }
        let alphas = alpha.alphas(steps: steps)
        let (epsilons, selection) = try schedule(x, y, alphas: alphas, rng: &rng)
        let thresholds = Self.thresholdSchedule(steps: steps, start: startThreshold, end: sinkhorn.threshold)
        var current = x
        var iterates: [Matrix<Scalar>] = []
        var fitted: [ProgOTMap<Scalar>.Step] = []
        var warm: SinkhornPotentials<Scalar>?
        var lastSolution: SinkhornResult<Scalar>?
        var lastSource = x
        var reporter = TrainingReporter(method: debiased ? "progot (debiased)" : "progot", steps: steps, interval: 0)
        for ((alpha, epsilon), threshold) in zip(zip(alphas, epsilons), thresholds) {
            var options = sinkhorn
            options.epsilon = .fixed(epsilon)
            options.threshold = threshold
            let step: ProgOTMap<Scalar>.Step
            if debiased {
                let (map, cross) = try DebiasedEntropicMap.fit(current, y, options: options)
                lastSolution = cross
                step = .init(alpha: alpha, epsilon: epsilon, g: map.cross.g, sourceSelf: map.sourceSelf,
                             iterations: cross.iterations, converged: map.converged, threshold: threshold,
                             marginalError: cross.marginalError)
            } else {
                let solution = try Sinkhorn.solveGeneric(current, y, options, warmStart: warm, cost: cost)
                lastSolution = solution
                step = .init(alpha: alpha, epsilon: epsilon, g: solution.g, sourceSelf: nil,
                             iterations: solution.iterations, converged: solution.converged, threshold: threshold,
                             marginalError: solution.marginalError)
                if warmStart {
                    let keep = Scalar(1 - alpha)
                    warm = SinkhornPotentials(f: solution.f.map { $0 * keep }, g: solution.g.map { $0 * keep })
                }
            }
            fitted.append(step)
            if reporter.isDue(fitted.count) {
                let detail = String(format: "ε %.3g, %d Sinkhorn iterations%@", epsilon, step.iterations,
                                    step.converged ? "" : " (not converged)")
                reporter.report(step: fitted.count, detail: detail)
            }
            lastSource = current
            current = try ProgOTMap.advance(current, by: step, target: y, cost: cost)
            iterates.append(current)
        }
        var map = ProgOTMap(target: y, steps: fitted, epsilonSelection: selection, cost: cost)
        if !sinkhorn.isBalanced { map.unbalanced = true }
        return ProgOTFit(map: map, iterates: iterates, lastStepSource: lastSource, lastStepSolution: lastSolution)
    }

    private func schedule<Scalar: TransportScalar>(
        _ x: Matrix<Scalar>, _ y: Matrix<Scalar>, alphas: [Double], rng: inout SeededRNG
    ) throws -> ([Double], EpsilonTuning.Selection?) {
        switch epsilon {
        case .fixed(let values):
            guard values.count == steps, values.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw TransportError.invalidParameter(
                    "ProgOT needs \(steps) positive epsilons (one per step), got \(values.count)")
            }
            return (values, nil)
        case .scheduled(let tuning, let startScale):
            guard startScale.isFinite, startScale > 0 else {
                throw TransportError.invalidParameter("ProgOT start epsilon scale must be positive, got \(startScale)")
            }
            let selection = try tuning.select(target: y, sinkhorn: sinkhorn, rng: &rng, cost: cost)
            var start = startScale * (try EpsilonChoice.auto.resolve(for: cost.rows(x, y)))
            if startAtLeastEnd { start = Swift.max(start, selection.epsilon) }
            return (Self.epsilonSchedule(alphas: alphas, start: start, end: selection.epsilon), selection)
        }
    }
}

/// A fitted ProgOT map and the iterates of the training source points.
public struct ProgOTFit<Scalar: TransportScalar>: Sendable {
    public let map: ProgOTMap<Scalar>
    /// x_1 … x_K: the training source points after each step.
    public let iterates: [Matrix<Scalar>]
    /// x_{K−1}, the source of the last step's problem (x itself when K = 1): its rows are the
    /// training source points', so the last step's plan is ProgOT's coupling of x and y.
    public let lastStepSource: Matrix<Scalar>
    /// The last step's Sinkhorn solution (of the (x, y) problem when debiased).
    public let lastStepSolution: SinkhornResult<Scalar>?
}

/// A fitted ProgOT map: the target points once, and per step α_k, ε_k and the target
/// potential g_k (plus, for debiased steps, the self-map of that step's source points).
public struct ProgOTMap<Scalar: TransportScalar>: TransportMap, Equatable {
    public struct Step: Sendable, Codable, Equatable {
        public let alpha: Double
        public let epsilon: Double
        public let g: [Scalar]
        /// Debiased steps only: the entropic self-map T_xx of the step's source points.
        public let sourceSelf: EntropicMap<Scalar>?
        /// Sinkhorn iterations of this step (of the (x, y) problem when debiased).
        public let iterations: Int
        /// Whether this step's Sinkhorn run(s) converged.
        public let converged: Bool
        /// The stopping threshold of this step's Sinkhorn run.
        public let threshold: Double
        /// L1 error of the column marginal when the (x, y) run stopped (nil when not finite).
        public let marginalError: Double?

        public init(alpha: Double, epsilon: Double, g: [Scalar], sourceSelf: EntropicMap<Scalar>?, iterations: Int,
                    converged: Bool, threshold: Double, marginalError: Double) {
            self.alpha = alpha
            self.epsilon = epsilon
            self.g = g
            self.sourceSelf = sourceSelf
            self.iterations = iterations
            self.converged = converged
            self.threshold = threshold
            self.marginalError = marginalError.isFinite ? marginalError : nil
        }
    }

    public let target: Matrix<Scalar>
    public let steps: [Step]
    /// The ε search, when the end ε was tuned.
    public let epsilonSelection: EpsilonTuning.Selection?
    /// The ground cost of every step.
    public let cost: GroundCost
    /// Whether the steps solved unbalanced problems (τ < 1); nil or false: balanced.
    public var unbalanced: Bool?

    public init(target: Matrix<Scalar>, steps: [Step], epsilonSelection: EpsilonTuning.Selection?,
                cost: GroundCost = .squaredEuclidean) {
        self.target = target
        self.steps = steps
        self.epsilonSelection = epsilonSelection
        self.cost = cost
    }

    public var converged: Bool {
        steps.allSatisfy(\.converged) && (epsilonSelection?.converged ?? true)
    }

    /// The ε search's runs, then one record per step (k = 1 … K).
    public var solverSteps: [SolverStep] {
        (epsilonSelection?.runs ?? []) + steps.enumerated().map { index, step in
            SolverStep(role: .progressiveStep, index: index + 1, epsilon: step.epsilon, alpha: step.alpha,
                       threshold: step.threshold, iterations: step.iterations, converged: step.converged,
                       marginalError: step.marginalError ?? .infinity)
        }
    }

    /// Total Sinkhorn iterations of the steps, and how many steps did not converge.
    public var diagnostics: [String: Double] {
        ["steps_unconverged": Double(steps.filter { !$0.converged }.count),
         "step_iterations": Double(steps.reduce(0) { $0 + $1.iterations })]
    }

    public func transport(_ points: Matrix<Scalar>) throws -> Matrix<Scalar> {
        try trajectory(points).last ?? points
    }

    /// All 1 when balanced. Unbalanced, nil: each step solves from the points the earlier steps
    /// moved, so no single plan has the original source points as its rows, and a product of
    /// the steps' masses would count the same loss K times; eot's map gives the retained mass.
    public func retainedMass(_ points: Matrix<Scalar>) throws -> [Double]? {
        try validateQuery(points, dimension: target.cols)
        return unbalanced == true ? nil : [Double](repeating: 1, count: points.rows)
    }

    /// The points after each step: the same recursion the fit applied to the training points.
    public func trajectory(_ points: Matrix<Scalar>) throws -> [Matrix<Scalar>] {
        try validateQuery(points, dimension: target.cols)
        var current = points
        var result: [Matrix<Scalar>] = []
        for step in steps {
            current = try Self.advance(current, by: step, target: target, cost: cost)
            result.append(current)
        }
        return result
    }

    /// x ← (1 − α)·x + α·T(x) for one step.
    static func advance(
        _ points: Matrix<Scalar>, by step: Step, target: Matrix<Scalar>, cost: GroundCost
    ) throws -> Matrix<Scalar> {
        let entropic = EntropicMap(target: target, g: step.g, epsilon: step.epsilon, converged: step.converged, cost: cost)
        let mapped: Matrix<Scalar>
        if let sourceSelf = step.sourceSelf {
            mapped = try DebiasedEntropicMap(cross: entropic, sourceSelf: sourceSelf).transport(points)
        } else {
            mapped = try entropic.transport(points)
        }
        let alpha = Scalar(step.alpha), stay = Scalar(1 - step.alpha)
        var result = mapped
        result.withUnsafeMutableBufferPointer { out in
            for k in out.indices { out[k] = stay * points.storage[k] + alpha * out[k] }
        }
        return result
    }
}

extension ProgOTMap {
    private enum CodingKeys: String, CodingKey { case target, steps, epsilonSelection, cost, unbalanced }

    /// Maps written before costs existed have no `cost`: they are squared-Euclidean.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(target: try container.decode(Matrix<Scalar>.self, forKey: .target),
                  steps: try container.decode([Step].self, forKey: .steps),
                  epsilonSelection: try container.decodeIfPresent(EpsilonTuning.Selection.self, forKey: .epsilonSelection),
                  cost: try container.decodeIfPresent(GroundCost.self, forKey: .cost) ?? .squaredEuclidean)
        unbalanced = try container.decodeIfPresent(Bool.self, forKey: .unbalanced)
    }
}
