import Foundation
import NeuralTransport
import Transport

/// A value given to a solver parameter in a pipeline file.
public enum ParameterValue: Sendable, Equatable, Codable, CustomStringConvertible {
    case integer(Int)
    case number(Double)
    case text(String)
    case flag(Bool)

    public var description: String {
        switch self {
        case .integer(let value): return String(value)
        case .number(let value): return String(value)
        case .text(let value): return value
        case .flag(let value): return String(value)
        }
    }

    var number: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .number(let value): return value
        default: return nil
        }
    }
}

/// What one solver parameter accepts.
public struct ParameterSchema: Sendable {
    public enum Kind: Sendable {
        /// An integer ≥ the minimum.
        case integer(minimum: Int)
        /// A number > 0.
        case positiveNumber
        /// A number ≥ 0.
        case nonNegativeNumber
        /// A number strictly between 0 and 1.
        case fraction
        /// One of these words.
        case choice([String])
        /// true or false.
        case flag
        /// One of these words, or a number > 0.
        case choiceOrPositiveNumber([String])
    }

    public let name: String
    public let kind: Kind
    /// Shown in error messages and `perturbot validate`'s help.
    public let help: String

    /// Nil when `value` fits, else what was expected.
    public func problem(with value: ParameterValue) -> String? {
        switch (kind, value) {
        case (.integer(let minimum), .integer(let given)):
            return given >= minimum ? nil : "'\(name)' must be an integer ≥ \(minimum), got \(given)"
        case (.integer(let minimum), _):
            return "'\(name)' must be an integer ≥ \(minimum), got '\(value)'"
        case (.positiveNumber, _):
            if let number = value.number, number > 0, number.isFinite { return nil }
            return "'\(name)' must be a number > 0, got '\(value)'"
        case (.nonNegativeNumber, _):
            if let number = value.number, number >= 0, number.isFinite { return nil }
            return "'\(name)' must be a number ≥ 0, got '\(value)'"
        case (.fraction, _):
            if let number = value.number, number > 0, number < 1 { return nil }
            return "'\(name)' must be a number strictly between 0 and 1, got '\(value)'"
        case (.choice(let words), .text(let word)):
            return words.contains(word) ? nil : "'\(name)' must be one of \(words.joined(separator: ", ")), got '\(word)'"
        case (.choice(let words), _):
            return "'\(name)' must be one of \(words.joined(separator: ", ")), got '\(value)'"
        case (.flag, .flag):
            return nil
        case (.flag, _):
            return "'\(name)' must be true or false, got '\(value)'"
        case (.choiceOrPositiveNumber(let words), .text(let word)):
            return words.contains(word) ? nil
                : "'\(name)' must be \(words.joined(separator: ", ")) or a number > 0, got '\(word)'"
        case (.choiceOrPositiveNumber(let words), _):
            if let number = value.number, number > 0, number.isFinite { return nil }
            return "'\(name)' must be \(words.joined(separator: ", ")) or a number > 0, got '\(value)'"
        }
    }
}

/// The map estimators a pipeline's `solve` stage can run, by the `solver:` name of a method,
/// with the parameters each accepts. Later modules (neural, sparse) add theirs here.
public enum SolverRegistry {
    public struct Solver: Sendable {
        public let name: String
        public let summary: String
        public let parameters: [ParameterSchema]
        /// The type of the maps it fits (Float), to decode a cached map.
        public let mapType: any TransportMap<Float>.Type
        /// Builds the estimator from validated parameters (absent ones take their defaults).
        public let make: @Sendable ([String: ParameterValue]) -> any MapEstimator
        /// What is wrong with a combination of individually valid parameters, or nil.
        public let check: @Sendable ([String: ParameterValue]) -> String?
        /// Whether its maps draw samples (`TransportMap.isStochastic`), which the report says.
        public let stochastic: Bool
        /// Raised when this solver's code changes what it fits, so that the solve tasks of its
        /// methods get new cache keys while every other solver's cached maps stay valid (the
        /// solve stage's version would invalidate them all). 0 adds nothing to the key.
        public let revision: Int

        init(name: String, summary: String, parameters: [ParameterSchema], mapType: any TransportMap<Float>.Type,
             stochastic: Bool = false, revision: Int = 0,
             check: @escaping @Sendable ([String: ParameterValue]) -> String? = { _ in nil },
             make: @escaping @Sendable ([String: ParameterValue]) -> any MapEstimator) {
            self.name = name
            self.stochastic = stochastic
            self.revision = revision
            self.summary = summary
            self.parameters = parameters
            self.mapType = mapType
            self.check = check
            self.make = make
        }

        /// Decodes a map this solver fitted (JSON, as the cache stores it).
        public func decodeMap(_ data: Data) throws -> any TransportMap<Float> {
            try decode(mapType, data)
        }

        private func decode<Map: TransportMap>(_: Map.Type, _ data: Data) throws -> any TransportMap<Float>
        where Map.Scalar == Float {
            try JSONDecoder().decode(Map.self, from: data)
        }
    }

    private static let sinkhornParameters = [
        ParameterSchema(name: "threshold", kind: .positiveNumber, help: "Sinkhorn stops when the L1 marginal error is below this (1e-3)"),
        ParameterSchema(name: "max_iterations", kind: .integer(minimum: 1), help: "Sinkhorn iteration limit (2000)"),
    ]

    public static let solvers: [Solver] = [
        Solver(name: "identity", summary: "T(x) = x (baseline)", parameters: [], mapType: IdentityMap<Float>.self) { _ in IdentityEstimator() },
        Solver(name: "mean_shift", summary: "T(x) = x + mean(target) − mean(source) (baseline)", parameters: [],
               mapType: MeanShiftMap<Float>.self) { _ in
            MeanShiftEstimator()
        },
        Solver(
            name: "eot", summary: "entropic map; ε tuned on held-out target points unless given",
            parameters: [
                ParameterSchema(name: "epsilon", kind: .choiceOrPositiveNumber(["tuned", "auto"]),
                                help: "tuned (default), auto (OTT's default) or a number"),
                ParameterSchema(name: "held_out_fraction", kind: .fraction, help: "target fraction held out to tune ε (0.1)"),
            ] + sinkhornParameters, mapType: EntropicMap<Float>.self
        ) { parameters in
            let sinkhorn = sinkhornOptions(parameters)
            switch parameters["epsilon"] {
            case .text("auto")?: return EntropicMapEstimator(epsilon: .choice(.auto), sinkhorn: sinkhorn)
            case let value? where value.number != nil:
                return EntropicMapEstimator(epsilon: .choice(.fixed(value.number ?? 1)), sinkhorn: sinkhorn)
            default: return EntropicMapEstimator(epsilon: .tuned(tuning(parameters)), sinkhorn: sinkhorn)
            }
        },
        Solver(name: "untuned", summary: "entropic map at OTT's default ε", parameters: sinkhornParameters,
               mapType: EntropicMap<Float>.self) { parameters in
            EntropicMapEstimator(epsilon: .choice(.auto), sinkhorn: sinkhornOptions(parameters))
        },
        Solver(
            name: "debiased", summary: "map of the Sinkhorn-divergence potential",
            parameters: [
                ParameterSchema(name: "epsilon", kind: .choiceOrPositiveNumber(["auto"]), help: "auto (default) or a number"),
            ] + sinkhornParameters, mapType: DebiasedEntropicMap<Float>.self
        ) { parameters in
            DebiasedMapEstimator(epsilon: epsilonChoice(parameters["epsilon"]), sinkhorn: sinkhornOptions(parameters))
        },
        Solver(
            name: "progot", summary: "progressive entropic OT (Kassraie et al. 2024)",
            parameters: [
                ParameterSchema(name: "steps", kind: .integer(minimum: 1), help: "number of steps K (4)"),
                ParameterSchema(name: "alpha", kind: .choice(AlphaSchedule.allCases.map(\.rawValue)), help: "step schedule lin, exp or quad (quad)"),
                ParameterSchema(name: "epsilon", kind: .choiceOrPositiveNumber(["tuned"]),
                                help: "tuned (default: the paper's schedule) or one number for every step"),
                ParameterSchema(name: "start_epsilon_scale", kind: .positiveNumber, help: "start ε as a multiple of OTT's default (1)"),
                ParameterSchema(name: "held_out_fraction", kind: .fraction, help: "target fraction held out to tune the end ε (0.1)"),
                ParameterSchema(name: "debiased", kind: .flag, help: "debiased map at every step (false)"),
                ParameterSchema(name: "start_at_least_end", kind: .flag,
                                help: "start ε raised to the tuned end ε when that is larger, so ε never rises (false)"),
                ParameterSchema(name: "warm_start", kind: .flag, help: "start each step from the last potentials × (1 − α) (true)"),
                ParameterSchema(name: "start_threshold", kind: .positiveNumber,
                                help: "threshold of step 1, falling geometrically to `threshold` at step K (0.01; equal to `threshold`: one threshold for every step)"),
            ] + sinkhornParameters, mapType: ProgOTMap<Float>.self
        ) { parameters in
            var estimator = ProgOTEstimator(sinkhorn: sinkhornOptions(parameters))
            if case .integer(let steps)? = parameters["steps"] { estimator.steps = steps }
            if case .text(let alpha)? = parameters["alpha"], let schedule = AlphaSchedule(rawValue: alpha) {
                estimator.alpha = schedule
            }
            if let value = parameters["epsilon"]?.number {
                estimator.epsilon = .fixed(Array(repeating: value, count: estimator.steps))
            } else {
                estimator.epsilon = .scheduled(tuning: tuning(parameters), startScale: parameters["start_epsilon_scale"]?.number ?? 1)
            }
            if case .flag(let on)? = parameters["debiased"] { estimator.debiased = on }
            if case .flag(let on)? = parameters["warm_start"] { estimator.warmStart = on }
            if case .flag(let on)? = parameters["start_at_least_end"] { estimator.startAtLeastEnd = on }
            if let value = parameters["start_threshold"]?.number { estimator.startThreshold = value }
            return estimator
        },
        Solver(
            name: "mbo", summary: "entropic map of an elastic cost ½‖·‖² + λτ, sparse displacements (Cuturi, Klein & Ablin 2023)",
            parameters: [
                ParameterSchema(name: "penalty", kind: .choice(MBOEstimator.Penalty.allCases.map(\.rawValue)),
                                help: "τ: l1 (soft thresholding at λ, the default) or stvs (threshold λγ)"),
                ParameterSchema(name: "lambda", kind: .nonNegativeNumber, help: "λ, the weight of τ (1; at most 2 for stvs)"),
                ParameterSchema(name: "gamma", kind: .positiveNumber, help: "stvs: γ (1)"),
                ParameterSchema(name: "epsilon", kind: .choiceOrPositiveNumber(["tuned", "auto"]),
                                help: "tuned on held-out target points (default, as eot), auto (OTT's default for the elastic cost) or a number"),
                ParameterSchema(name: "held_out_fraction", kind: .fraction, help: "target fraction held out to tune ε (0.1)"),
            ] + sinkhornParameters, mapType: EntropicMap<Float>.self,
            check: { parameters in
                guard case .text("stvs")? = parameters["penalty"], let lambda = parameters["lambda"]?.number, lambda > GroundCost.maximumSTVSLambda else {
                    return nil
                }
                return "'lambda' must be at most 2 with penalty stvs (½‖z‖² + λ·STVS_γ is not convex beyond; the threshold is λγ, so raise 'gamma'), got \(lambda)"
            }
        ) { parameters in
            var estimator = MBOEstimator(sinkhorn: sinkhornOptions(parameters))
            if case .text(let name)? = parameters["penalty"], let penalty = MBOEstimator.Penalty(rawValue: name) {
                estimator.penalty = penalty
            }
            if let value = parameters["lambda"]?.number { estimator.lambda = value }
            if let value = parameters["gamma"]?.number { estimator.gamma = value }
            switch parameters["epsilon"] {
            case .text("auto")?: estimator.epsilon = .choice(.auto)
            case let value? where value.number != nil: estimator.epsilon = .choice(.fixed(value.number ?? 1))
            default: estimator.epsilon = .tuned(tuning(parameters))
            }
            return estimator
        },
        Solver(
            name: "icnn", summary: "ICNN optimal transport (Makkuva et al.; CellOT's training)",
            parameters: icnnParameters(batchSize: 256), mapType: ICNNMap<Float>.self
        ) { parameters in
            icnnSettings(parameters, base: ICNNOTEstimator())
        },
        Solver(
            name: "monge_gap", summary: "MLP map trained on Sinkhorn divergence + λ·Monge gap (Uscidda & Cuturi; OTT-JAX's defaults)",
            parameters: [
                ParameterSchema(name: "iterations", kind: .integer(minimum: 1), help: "training steps (10000)"),
                ParameterSchema(name: "batch_size", kind: .integer(minimum: 2), help: "minibatch size (256)"),
                ParameterSchema(name: "learning_rate", kind: .positiveNumber, help: "Adam learning rate (1e-3)"),
                ParameterSchema(name: "regularizer_strength", kind: .nonNegativeNumber, help: "λ of the Monge gap (1)"),
                ParameterSchema(name: "epsilon", kind: .choiceOrPositiveNumber(["auto"]),
                                help: "ε of every Sinkhorn solve: auto (OTT's default per batch, the default) or a number"),
                ParameterSchema(name: "width", kind: .integer(minimum: 1), help: "scales the hidden layers [2w, w, w] (64)"),
                ParameterSchema(name: "max_iterations", kind: .integer(minimum: 1), help: "Sinkhorn iteration limit per solve (1000)"),
            ], mapType: MongeGapMap<Float>.self,
            // 1: entropic plans in the training precision through the row kernels
            revision: 1
        ) { parameters in
            var estimator = MongeGapEstimator()
            if case .integer(let value)? = parameters["iterations"] { estimator.iterations = value }
            if case .integer(let value)? = parameters["batch_size"] { estimator.batchSize = value }
            if let value = parameters["learning_rate"]?.number { estimator.learningRate = value }
            if let value = parameters["regularizer_strength"]?.number { estimator.regularizerStrength = value }
            estimator.epsilon = epsilonChoice(parameters["epsilon"])
            if case .integer(let value)? = parameters["width"] { estimator.hiddenUnits = [2 * value, value, value] }
            if case .integer(let value)? = parameters["max_iterations"] { estimator.sinkhornMaxIterations = value }
            return estimator
        },
        Solver(
            name: "egnot",
            summary: "energy-guided entropic neural OT (Mokrov et al. 2024): a stochastic map, y ~ π(· | x) drawn by Langevin sampling",
            parameters: [
                ParameterSchema(name: "epsilon", kind: .choiceOrPositiveNumber(["auto"]),
                                help: "ε for the cost ½‖x − y‖² (eot's plan at 2ε): auto (0.05 × std of ½‖x − y‖², the default) or a number"),
                ParameterSchema(name: "step_size", kind: .positiveNumber, help: "Langevin step η, below 2ε (ε/10)"),
                ParameterSchema(name: "noise", kind: .positiveNumber, help: "std of each Langevin step's noise (√η; another value samples the plan of ε·noise²/η)"),
                ParameterSchema(name: "langevin_steps", kind: .integer(minimum: 1), help: "Langevin steps per training batch (100)"),
                ParameterSchema(name: "test_langevin_steps", kind: .integer(minimum: 1), help: "Langevin steps to sample the fitted map (700)"),
                ParameterSchema(name: "iterations", kind: .integer(minimum: 1), help: "training steps (20000)"),
                ParameterSchema(name: "batch_size", kind: .integer(minimum: 1), help: "minibatch size (1024)"),
                ParameterSchema(name: "hidden", kind: .integer(minimum: 1), help: "units of each hidden layer (256)"),
                ParameterSchema(name: "layers", kind: .integer(minimum: 1), help: "hidden layers (3)"),
                ParameterSchema(name: "learning_rate", kind: .positiveNumber, help: "Adam learning rate (2e-4; β 0.2, 0.99)"),
                ParameterSchema(name: "chain_start", kind: .choice(EnergyGuidedOTEstimator.ChainStart.allCases.map(\.rawValue)),
                                help: "where new chains begin: noise (N(0, I), the paper) or source (at their x)"),
            ], mapType: EnergyGuidedMap<Float>.self, stochastic: true,
            check: { parameters in
                guard let step = parameters["step_size"]?.number, let epsilon = parameters["epsilon"]?.number, step >= 2 * epsilon else {
                    return nil
                }
                return "'step_size' must be below 2·epsilon = \(2 * epsilon) (each Langevin step pulls a chain η/(2ε) of the way to its source point), got \(step)"
            }
        ) { parameters in
            var estimator = EnergyGuidedOTEstimator()
            estimator.epsilon = epsilonChoice(parameters["epsilon"])
            if let value = parameters["step_size"]?.number { estimator.stepSize = value }
            if let value = parameters["noise"]?.number { estimator.noise = value }
            if case .integer(let value)? = parameters["langevin_steps"] { estimator.trainingSteps = value }
            if case .integer(let value)? = parameters["test_langevin_steps"] { estimator.testSteps = value }
            if case .integer(let value)? = parameters["iterations"] { estimator.iterations = value }
            if case .integer(let value)? = parameters["batch_size"] { estimator.batchSize = value }
            let width: Int
            if case .integer(let value)? = parameters["hidden"] { width = value } else { width = estimator.hiddenUnits[0] }
            let depth: Int
            if case .integer(let value)? = parameters["layers"] { depth = value } else { depth = estimator.hiddenUnits.count }
            estimator.hiddenUnits = Array(repeating: width, count: depth)
            if let value = parameters["learning_rate"]?.number { estimator.learningRate = value }
            if case .text(let name)? = parameters["chain_start"], let start = EnergyGuidedOTEstimator.ChainStart(rawValue: name) {
                estimator.chainStart = start
            }
            return estimator
        },
        Solver(
            name: "sparse_icnn",
            summary: "displacement-sparse ICNN (Chen, Xie & Zhang 2025): λ·τ(T(x) − x) in g's loss, λ annealed or set by a dimension threshold",
            parameters: icnnParameters(batchSize: 128).filter { $0.name != "iterations" } + [
                ParameterSchema(name: "penalty", kind: .choice(["smoothed_l0", "l1", "stvs"]), help: "τ (smoothed_l0)"),
                ParameterSchema(name: "penalty_width", kind: .positiveNumber, help: "σ of smoothed_l0 or γ of stvs (1)"),
                ParameterSchema(name: "lambda", kind: .positiveNumber, help: "initial λ (5e-4)"),
                ParameterSchema(name: "init_iterations", kind: .integer(minimum: 1), help: "outer iterations at the initial λ (20000)"),
                ParameterSchema(name: "adjust_iterations", kind: .integer(minimum: 1), help: "outer iterations after each λ proposal (2000)"),
                ParameterSchema(name: "smooth_iterations", kind: .integer(minimum: 0), help: "outer iterations back at the kept λ after a rejection (2000)"),
                ParameterSchema(name: "beta", kind: .nonNegativeNumber, help: "weight of the normalised sparsity in Eval (1)"),
                ParameterSchema(name: "decay", kind: .fraction, help: "temperature decay per proposal, from 1 to 0.15 (0.95)"),
                ParameterSchema(name: "dimension_threshold", kind: .nonNegativeNumber,
                                help: "high-dimensional mode: keep the mean number of moved coordinates ≤ this (unset: annealing)"),
                ParameterSchema(name: "moved_tolerance", kind: .positiveNumber, help: "|T(x) − x|ᵢ above this counts as moved (0.1)"),
            ], mapType: SparseICNNMap<Float>.self
        ) { parameters in
            var estimator = SparseICNNEstimator()
            estimator.training = icnnSettings(parameters, base: estimator.training)
            let width = parameters["penalty_width"]?.number ?? 1
            switch parameters["penalty"] {
            case .text("l1")?: estimator.penalty = .l1
            case .text("stvs")?: estimator.penalty = .stvs(gamma: width)
            default: estimator.penalty = .smoothedL0(sigma: width)
            }
            if let value = parameters["lambda"]?.number { estimator.initialLambda = value }
            if case .integer(let value)? = parameters["init_iterations"] { estimator.initIterations = value }
            if case .integer(let value)? = parameters["adjust_iterations"] { estimator.adjustIterations = value }
            if case .integer(let value)? = parameters["smooth_iterations"] { estimator.smoothIterations = value }
            if let value = parameters["beta"]?.number { estimator.beta = value }
            if let value = parameters["decay"]?.number { estimator.annealing.decay = value }
            if let value = parameters["dimension_threshold"]?.number { estimator.mode = .dimensionThreshold(value) }
            if let value = parameters["moved_tolerance"]?.number { estimator.movedTolerance = value }
            return estimator
        },
    ]

    public static func solver(named name: String) -> Solver? {
        solvers.first { $0.name == name }
    }

    private static func icnnParameters(batchSize: Int) -> [ParameterSchema] {
        [
            ParameterSchema(name: "iterations", kind: .integer(minimum: 1), help: "outer iterations (100000)"),
            ParameterSchema(name: "inner_iterations", kind: .integer(minimum: 1), help: "g steps per f step (10)"),
            ParameterSchema(name: "batch_size", kind: .integer(minimum: 1), help: "minibatch size (\(batchSize))"),
            ParameterSchema(name: "learning_rate", kind: .positiveNumber, help: "Adam learning rate (1e-4)"),
            ParameterSchema(name: "width", kind: .integer(minimum: 1), help: "units of each of the 4 hidden layers (64)"),
        ]
    }

    private static func icnnSettings(_ parameters: [String: ParameterValue], base: ICNNOTEstimator) -> ICNNOTEstimator {
        var estimator = base
        if case .integer(let value)? = parameters["iterations"] { estimator.iterations = value }
        if case .integer(let value)? = parameters["inner_iterations"] { estimator.innerIterations = value }
        if case .integer(let value)? = parameters["batch_size"] { estimator.batchSize = value }
        if let value = parameters["learning_rate"]?.number { estimator.learningRate = value }
        if case .integer(let value)? = parameters["width"] { estimator.hiddenUnits = Array(repeating: value, count: 4) }
        return estimator
    }

    private static func sinkhornOptions(_ parameters: [String: ParameterValue]) -> SinkhornOptions {
        var options = SinkhornOptions()
        if let threshold = parameters["threshold"]?.number { options.threshold = threshold }
        if case .integer(let limit)? = parameters["max_iterations"] { options.maxIterations = limit }
        return options
    }

    private static func tuning(_ parameters: [String: ParameterValue]) -> EpsilonTuning {
        var tuning = EpsilonTuning()
        if let fraction = parameters["held_out_fraction"]?.number { tuning.heldOutFraction = fraction }
        return tuning
    }

    private static func epsilonChoice(_ value: ParameterValue?) -> EpsilonChoice {
        if let number = value?.number { return .fixed(number) }
        return .auto
    }
}
