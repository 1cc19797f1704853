import Foundation
import LinearAlgebra
import Transport

/// The ProgOT paper's coupling experiments (Kassraie et al. 2024, the "cost vs entropy" figure
/// and Table 2): Sinkhorn over a grid of ε and ProgOT over several K, each scored by its plan's
/// transport cost Σπ_ij c(x_i, y_j), its entropy −Σπ_ij log π_ij and the Sinkhorn iterations it
/// took; for paired clouds (y_i the image of x_i, e.g. a blurred copy) also the mass on the true
/// pairs, Tr π, and KL(π* ‖ π) with π* = Id/n.
///
/// ProgOT's coupling is its last step's plan: that step solves from x_{K−1}, whose rows are the
/// source points', to y (`ProgOTFit.lastStepSource`); its cost is measured with the original x.
public enum CouplingRecovery {
    public struct Settings: Sendable, Equatable {
        public var cost: GroundCost
        /// Sinkhorn's ε grid, as multiples of OTT's default ε of the (x, y) problem under `cost`.
        public var epsilonScales: [Double]
        /// Also run Sinkhorn at the ε chosen by the held-out search (eot's, and ProgOT's end ε).
        public var tunedEpsilon: Bool
        /// ProgOT's numbers of steps.
        public var progotSteps: [Int]
        /// ProgOT's end ε as multiples of ε₀ of (x, y), each run for every K (the schedule from
        /// the start ε to this end ε as the paper's Algorithm 4 builds it); nil: the end ε tuned
        /// on held-out target points.
        public var progotEndScales: [Double?]
        /// ProgOT's settings apart from K and the cost (its `sinkhorn` also sets Sinkhorn's
        /// threshold and iteration limit here).
        public var progot: ProgOTEstimator
        /// y_i is the true partner of x_i.
        public var paired: Bool

        public init(cost: GroundCost = .squaredEuclidean,
                    epsilonScales: [Double] = [1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0 / 2, 1, 2],
                    tunedEpsilon: Bool = true, progotSteps: [Int] = [2, 4, 8, 16], progotEndScales: [Double?] = [nil],
                    progot: ProgOTEstimator = ProgOTEstimator(), paired: Bool = false) {
            self.progotEndScales = progotEndScales
            self.cost = cost
            self.epsilonScales = epsilonScales
            self.tunedEpsilon = tunedEpsilon
            self.progotSteps = progotSteps
            self.progot = progot
            self.paired = paired
        }
    }

    /// One solver setting and its plan.
    public struct Row: Sendable, Equatable, Codable {
        /// `sinkhorn` or `progot`.
        public let method: String
        /// "ε × 0.25" (of ε₀ of (x, y)), "tuned ε (scale 0.5)" (of ε₀ of (y, y), the held-out search's choice) or "K = 4".
        public let setting: String
        /// Sinkhorn's ε; ProgOT's last step's ε.
        public let epsilon: Double
        public let steps: Int?
        /// Sinkhorn iterations of the solve (ProgOT: summed over its steps).
        public let iterations: Int
        /// Iterations of the held-out ε search that preceded the solve (0 when ε was given).
        public let searchIterations: Int
        /// Runs of the solve that did not meet the threshold (ProgOT: steps).
        public let unconvergedRuns: Int
        public let statistics: CouplingStatistics
        public let seconds: Double
    }

    /// The settings' rows: the ε grid, the tuned ε, then ProgOT for each K.
    /// - Throws: `StageError.invalidInput` for unusable settings, or the solvers' errors.
    public static func run(
        source x: Matrix<Double>, target y: Matrix<Double>, settings: Settings, seed: UInt64
    ) throws -> [Row] {
        let cost = try settings.cost.validated()
        guard !settings.epsilonScales.isEmpty || settings.tunedEpsilon || !settings.progotSteps.isEmpty else {
            throw StageError.invalidInput("nothing to run: no ε scales, no tuned ε and no ProgOT steps")
        }
        let givenScales = settings.epsilonScales + settings.progotEndScales.compactMap { $0 }
        guard givenScales.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw StageError.invalidInput("ε scales must be positive numbers, got \(givenScales)")
        }
        guard !settings.progotEndScales.isEmpty || settings.progotSteps.isEmpty else {
            throw StageError.invalidInput("ProgOT needs at least one end ε (a scale, or tuned)")
        }
        guard settings.progotSteps.allSatisfy({ $0 >= 1 }) else {
            throw StageError.invalidInput("ProgOT step counts must be at least 1, got \(settings.progotSteps)")
        }
        var sinkhorn = settings.progot.sinkhorn
        var rows: [Row] = []
        let baseEpsilon = try cost.defaultEpsilon(x, y)
        for scale in settings.epsilonScales {
            sinkhorn.epsilon = .fixed(scale * baseEpsilon)
            rows.append(try sinkhornRow(x, y, sinkhorn, cost: cost, paired: settings.paired,
                                        setting: "ε × \(formatScale(scale))", searchIterations: 0))
        }
        if settings.tunedEpsilon {
            var rng = SeededRNG(seed: seed)
            let started = Date()
            let tuning: EpsilonTuning
            if case .scheduled(let configured, _) = settings.progot.epsilon { tuning = configured } else { tuning = EpsilonTuning() }
            let selection = try tuning.select(target: y, sinkhorn: settings.progot.sinkhorn, rng: &rng, cost: cost)
            sinkhorn.epsilon = .fixed(selection.epsilon)
            let searchIterations = selection.runs.reduce(0) { $0 + $1.iterations }
            let row = try sinkhornRow(x, y, sinkhorn, cost: cost, paired: settings.paired,
                                      setting: "tuned ε (scale \(formatScale(selection.scale)))",
                                      searchIterations: searchIterations)
            rows.append(Row(method: row.method, setting: row.setting, epsilon: row.epsilon, steps: nil,
                            iterations: row.iterations, searchIterations: searchIterations,
                            unconvergedRuns: row.unconvergedRuns + selection.runs.filter { !$0.converged }.count,
                            statistics: row.statistics, seconds: Date().timeIntervalSince(started)))
        }
        let startScale: Double
        if case .scheduled(_, let scale) = settings.progot.epsilon { startScale = scale } else { startScale = 1 }
        for steps in settings.progotSteps {
            for end in settings.progotEndScales {
                rows.append(try progotRow(x, y, settings: settings, steps: steps,
                                          endEpsilon: end.map { $0 * baseEpsilon }, endScale: end,
                                          startEpsilon: startScale * baseEpsilon, seed: seed))
            }
        }
        return rows
    }

    /// ProgOT with `steps` steps, its end ε given or (nil) tuned on held-out target points.
    private static func progotRow(
        _ x: Matrix<Double>, _ y: Matrix<Double>, settings: Settings, steps: Int, endEpsilon: Double?,
        endScale: Double?, startEpsilon: Double, seed: UInt64
    ) throws -> Row {
        var estimator = settings.progot
        estimator.steps = steps
        estimator.cost = settings.cost
        var setting = "K = \(steps)"
        if let endEpsilon, let endScale {
            estimator.epsilon = .fixed(ProgOTEstimator.epsilonSchedule(
                alphas: estimator.alpha.alphas(steps: steps), start: startEpsilon, end: endEpsilon))
            setting += ", end ε × \(formatScale(endScale))"
        }
        var rng = SeededRNG(seed: seed)
        let started = Date()
        let fit = try estimator.fitWithTrajectory(source: x, target: y, rng: &rng)
        guard let solution = fit.lastStepSolution, let last = fit.map.steps.last else {
            throw StageError.invalidInput("ProgOT with \(steps) steps returned no step")
        }
        let statistics = try CouplingStatistics.compute(
            source: x, target: y, solution: solution, cost: settings.cost, paired: settings.paired,
            solvedSource: fit.lastStepSource)
        return Row(
            method: "progot", setting: setting, epsilon: last.epsilon, steps: steps,
            iterations: fit.map.steps.reduce(0) { $0 + $1.iterations },
            searchIterations: (fit.map.epsilonSelection?.runs ?? []).reduce(0) { $0 + $1.iterations },
            unconvergedRuns: fit.map.solverSteps.filter { !$0.converged }.count,
            statistics: statistics, seconds: Date().timeIntervalSince(started))
    }

    private static func sinkhornRow(
        _ x: Matrix<Double>, _ y: Matrix<Double>, _ options: SinkhornOptions, cost: GroundCost, paired: Bool,
        setting: String, searchIterations: Int
    ) throws -> Row {
        let started = Date()
        let solution = try Sinkhorn.solve(source: x, target: y, options: options, cost: cost)
        let statistics = try CouplingStatistics.compute(source: x, target: y, solution: solution, cost: cost, paired: paired)
        return Row(method: "sinkhorn", setting: setting, epsilon: solution.epsilon, steps: nil,
                   iterations: solution.iterations, searchIterations: searchIterations,
                   unconvergedRuns: solution.converged ? 0 : 1, statistics: statistics,
                   seconds: Date().timeIntervalSince(started))
    }

    /// 0.25 → "0.25", 1/16 → "0.0625", 2 → "2".
    static func formatScale(_ scale: Double) -> String {
        scale == scale.rounded() ? String(Int(scale)) : String(format: "%g", scale)
    }
}
