import AnnData
import ArgumentParser
import Foundation
import LinearAlgebra
import NeuralTransport
import Pipeline
import Stages
import Transport

/// `perturbot ot`: entropic OT between two point clouds, optionally the Sinkhorn divergence and
/// a fitted map applied to query points.
struct OT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ot",
        abstract: "Solve entropic OT from --source to --target; optionally fit a map and apply it.",
        discussion: """
            Point clouds are one point per row: CSV (numbers only, comma-separated), NumPy .npy \
            (2-D), or .h5ad (X, or --obsm KEY). Cost ‖x−y‖², uniform weights, OTT-JAX conventions.
            Map methods: eot (ε tuned on held-out target points, or --epsilon E), untuned (OTT's \
            default ε), debiased, progot, identity, mean_shift, icnn (CellOT's ICNN-OT, --iterations), \
            monge_gap (MLP map with the Monge gap, --iterations training steps), sparse_icnn \
            (displacement-sparse ICNN: --penalty, --lambda, --iterations at λ₀ and a tenth of that per \
            λ proposal; λ annealed, or raised to meet --dimension-threshold).
            """)

    @Option(parsing: .unconditional, help: "Source point cloud (.csv, .npy or .h5ad).")
    var source: String

    @Option(parsing: .unconditional, help: "Target point cloud (.csv, .npy or .h5ad).")
    var target: String

    @Option(parsing: .unconditional, help: "For .h5ad inputs: read this obsm entry instead of X.")
    var obsm: String?

    @OptionGroup var sinkhorn: SinkhornArguments

    @OptionGroup var costArguments: CostArguments

    @Option(parsing: .unconditional, help: "float or double.")
    var precision: Precision = .double

    @Flag(help: "Also compute the Sinkhorn divergence S(source, target).")
    var divergence = false

    @Option(parsing: .unconditional, help: "Fit this map estimator on source → target: eot, untuned, debiased, progot, mbo, identity, mean_shift, icnn, monge_gap, sparse_icnn, egnot (stochastic: each output row is a draw of π(· | x)).")
    var map: MapMethod?

    @Option(parsing: .unconditional, help: "Points to transport with the fitted map (needs --map).")
    var apply: String?

    @Option(parsing: .unconditional, help: "Where to write the transported points as CSV (needs --map and --apply).")
    var out: String?

    @Option(parsing: .unconditional, help: "ProgOT: number of steps.")
    var steps = 4

    @Option(parsing: .unconditional, help: "ProgOT: step-size schedule lin, exp or quad.")
    var alpha: AlphaSchedule = .quad

    @Option(parsing: .unconditional, help: "icnn: outer iterations (CellOT: 100000); monge_gap: training steps (OTT: 10000); egnot: training steps (20000); sparse_icnn: iterations at the initial λ (20000), with a tenth of that after each λ proposal and after each rejection (2000).")
    var iterations: Int?

    @Option(parsing: .unconditional, help: "sparse_icnn: the displacement penalty smoothed_l0 (σ 1), l1 or stvs (γ 1).")
    var penalty: SparsityPenalty = .smoothed_l0

    @Option(parsing: .unconditional, help: "elastic_l1 and elastic_stvs costs (and --map mbo): λ ≥ 0 (1); sparse_icnn: initial sparsity strength λ > 0 (5e-4).")
    var lambda: Double?

    @Option(parsing: .unconditional, help: "sparse_icnn: keep the mean number of moved coordinates ≤ this (high-dimensional mode) instead of annealing λ.")
    var dimensionThreshold: Double?

    @Option(parsing: .unconditional, help: "Seed for the held-out split that tunes ε (eot, progot) and for the neural maps' initialisation, minibatches and samples.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "egnot (a stochastic map): draws of π(· | x) written per --apply point, consecutive rows (1).")
    var samplesPerPoint: Int = 1

    @Option(name: .customLong("set"),
            help: "A solver parameter as a pipeline file writes it, KEY=VALUE (repeatable; e.g. --set warm_start=true --set start_epsilon_scale=0.5). With --set the map is built from the pipeline's solver registry, so every parameter `perturbot validate` knows is available.")
    var parameters: [String] = []

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        if map != nil, apply == nil || out == nil {
            throw ValidationError("--map needs --apply QUERY and --out FILE")
        }
        if samplesPerPoint < 1 { throw ValidationError("--samples-per-point must be ≥ 1, got \(samplesPerPoint)") }
        if samplesPerPoint > 1, map != .egnot {
            throw ValidationError("--samples-per-point needs a stochastic map (--map egnot); \(map?.rawValue ?? "no map") gives one point per query")
        }
        if map == nil, apply != nil || out != nil {
            throw ValidationError("--apply and --out need --map METHOD")
        }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        if let iterations, iterations < 1 { throw ValidationError("--iterations must be at least 1") }
        if let lambda, !(lambda >= 0 && lambda.isFinite) { throw ValidationError("--lambda must be a number ≥ 0") }
        if map == .sparse_icnn, let lambda, lambda == 0 { throw ValidationError("--lambda must be positive for sparse_icnn") }
        if let dimensionThreshold, !(dimensionThreshold >= 0) { throw ValidationError("--dimension-threshold must be ≥ 0") }
        if !parameters.isEmpty {
            guard let map else { throw ValidationError("--set needs --map METHOD") }
            _ = try registryParameters(for: map)
        }
    }

    /// The solver of `map` in the pipeline registry with `--set` parameters, plus this command's
    /// --steps, --alpha, --threshold, --max-iterations and a numeric --epsilon where the solver
    /// takes them and --set does not name them.
    private func registryParameters(for map: MapMethod) throws -> (SolverRegistry.Solver, [String: ParameterValue]) {
        guard let solver = SolverRegistry.solver(named: map.rawValue) else {
            throw ValidationError("--set: \(map.rawValue) is not a pipeline solver")
        }
        var values: [String: ParameterValue] = [:]
        for assignment in parameters {
            guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                throw ValidationError("--set expects KEY=VALUE, got '\(assignment)'")
            }
            let key = String(assignment[..<equals]), text = String(assignment[assignment.index(after: equals)...])
            guard let schema = solver.parameters.first(where: { $0.name == key }) else {
                let known = solver.parameters.map(\.name).joined(separator: ", ")
                throw ValidationError("--set: \(map.rawValue) has no parameter '\(key)' (it takes: \(known.isEmpty ? "none" : known))")
            }
            let value = ParameterValue.parsing(text)
            if let problem = schema.problem(with: value) { throw ValidationError("--set: \(problem)") }
            values[key] = value
        }
        let accepted = Set(solver.parameters.map(\.name))
        var fromFlags: [String: ParameterValue] = [
            "steps": .integer(steps), "alpha": .text(alpha.rawValue),
            "threshold": .number(sinkhorn.threshold), "max_iterations": .integer(sinkhorn.maxIterations),
        ]
        if let lambda { fromFlags["lambda"] = .number(lambda) }
        if map == .mbo {
            switch try groundCost() {
            case .elasticSTVS(_, let gamma): fromFlags["penalty"] = .text("stvs"); fromFlags["gamma"] = .number(gamma)
            default: fromFlags["penalty"] = .text("l1")
            }
        }
        // --epsilon auto leaves each solver its own default (tuned for eot and progot).
        if case .fixed(let value) = try sinkhorn.options().epsilon { fromFlags["epsilon"] = .number(value) }
        for (key, value) in fromFlags where accepted.contains(key) && values[key] == nil { values[key] = value }
        if let problem = solver.check(values) { throw ValidationError("--set: \(problem)") }
        return (solver, values)
    }

    /// The cost of --cost, with --lambda (1 when not given); --map mbo needs an elastic cost, so
    /// without --cost it is elastic_l1, for the solve printed too.
    private func groundCost() throws -> GroundCost {
        if map == .mbo && costArguments.cost == "sqeuclidean" {
            return try GroundCost.elasticL1(lambda: lambda ?? 1).validated()
        }
        return try costArguments.groundCost(lambda: lambda ?? 1)
    }

    func run() throws {
        try reportingErrors {
            switch precision {
            case .double: try solve(Double.self)
            case .float: try solve(Float.self)
            }
        }
    }

    private func solve<Scalar: CommandScalar>(_: Scalar.Type) throws {
        let (x, y) = try readCloudPair(source: source, target: target, obsm: obsm)
        let options = try sinkhorn.options()
        let xs: Matrix<Scalar> = x.converted(), ys: Matrix<Scalar> = y.converted()
        let groundCost = try groundCost()
        let solution = try Scalar.sinkhorn(xs, ys, options, groundCost)
        var fields: [(String, JSONValue)] = [
            ("n", .integer(x.rows)), ("m", .integer(y.rows)), ("d", .integer(x.cols)),
            ("precision", .string(precision.rawValue)), ("cost", .string(groundCost.description)),
            ("epsilon", .number(solution.epsilon)),
            ("reg_ot_cost", .number(solution.regOTCost)),
            ("iterations", .integer(solution.iterations)),
            ("converged", .bool(solution.converged)),
            ("marginal_error", .number(solution.marginalError)),
        ]
        var warnings: [String] = []
        var stepLines: [String] = []
        if !solution.converged {
            warnings.append("Sinkhorn did not converge in \(solution.iterations) iterations (marginal error \(solution.marginalError), threshold \(options.threshold))")
        }
        if divergence {
            let value = try Scalar.divergence(xs, ys, options, groundCost)
            fields.append(("sinkhorn_divergence", .number(value.value)))
            fields.append(("sinkhorn_divergence_converged", .bool(value.converged)))
            if !value.converged { warnings.append("a Sinkhorn divergence term did not converge") }
        }
        if let map, let apply, let out {
            let query: Matrix<Scalar> = try PointCloudFile.read(apply, obsm: obsm).converted()
            guard query.cols == x.cols else {
                throw CommandError("\(apply) has \(query.cols) coordinates per point but \(source) has \(x.cols)")
            }
            var rng = SeededRNG(seed: seed)
            let estimator: any MapEstimator
            if parameters.isEmpty {
                estimator = try map.estimator(epsilon: options.epsilon, steps: steps, alpha: alpha, iterations: iterations,
                                              sinkhorn: options, cost: groundCost,
                                              sparsity: (penalty, lambda ?? 5e-4, dimensionThreshold))
            } else {
                guard groundCost == .squaredEuclidean || map == .mbo else {
                    throw CommandError("--set builds the pipeline's \(map.rawValue), which has no cost parameter; --cost \(costArguments.cost) needs --map eot, untuned, progot or mbo without --set")
                }
                let (solver, values) = try registryParameters(for: map)
                estimator = solver.make(values)
            }
            let start = DispatchTime.now().uptimeNanoseconds
            let progress = ProgressLine()
            let fitted = try TrainingProgress.reporting(to: { progress.training($0) }) {
                try Scalar.fit(estimator, xs, ys, &rng)
            }
            progress.finish()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let moved: Matrix<Scalar>
            if samplesPerPoint > 1, let stochastic = fitted as? EnergyGuidedMap<Scalar> {
                moved = try stochastic.sample(query, samplesPerPoint: samplesPerPoint, rng: &rng)
            } else {
                moved = try fitted.transport(query)
            }
            try PointCloudFile.writeCSV(moved.converted(to: Double.self), to: out)
            let steps = fitted.solverSteps
            var mapFields: [(String, JSONValue)] = [
                ("method", .string(map.rawValue)), ("converged", .bool(fitted.converged)),
                ("points", .integer(query.rows)), ("rows_written", .integer(moved.rows)),
                ("stochastic", .bool(fitted.isStochastic)), ("out", .string(out)), ("fit_seconds", .number(seconds)),
            ]
            mapFields += fitted.diagnostics.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.number($0.value)) }
            if !steps.isEmpty && json { mapFields.append(("steps", .array(steps.map(\.json)))) }
            fields.append(("map", .object(mapFields)))
            if !json { stepLines = steps.map(\.line) }
            for step in steps where !step.converged {
                warnings.append("\(step.role.rawValue) \(step.index) (ε \(step.epsilon)) did not converge in \(step.iterations) iterations (marginal error \(step.marginalError.map { String($0) } ?? "not finite"), threshold \(step.threshold))")
            }
            if !fitted.converged { warnings.append("the \(map.rawValue) map's solver did not converge") }
        }
        for warning in warnings {
            FileHandle.standardError.write(Data("perturbot: warning: \(warning)\n".utf8))
        }
        printFields(fields, json: json)
        if !stepLines.isEmpty {
            print("solver runs:")
            for line in stepLines { print("  " + line) }
        }
    }
}

/// The Sinkhorn options `perturbot ot` and `perturbot bench sinkhorn` share.
struct SinkhornArguments: ParsableArguments {
    @Option(parsing: .unconditional, help: "ε: a positive number, or 'auto' (0.05 × std of the cost matrix, OTT's default).")
    var epsilon = "auto"

    @Option(parsing: .unconditional, help: "Stop when the L1 error of the column marginal is below this.")
    var threshold = 1e-3

    @Option(parsing: .unconditional, help: "Sinkhorn iteration limit.")
    var maxIterations = 2000

    @Option(parsing: .unconditional, help: "automatic, dense or online (online never holds the n×m cost matrix).")
    var mode: SinkhornOptions.Mode = .automatic

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Momentum of the updates: a constant ω in (0, 2), or adaptive:START (Lehmann's ω from iteration START).",
        valueName: "ω|adaptive:START"))
    var momentum: String?

    @Option(parsing: .unconditional, help: "ε-scaling: start at this multiple (≥ 1) of ε, decaying by --epsilon-decay per iteration.")
    var epsilonInit: Double?

    @Option(parsing: .unconditional, help: "ε-scaling's factor per iteration, in (0, 1).")
    var epsilonDecay: Double?

    @Option(parsing: .unconditional, help: "Anderson acceleration over this many past iterations (OTT-JAX: 2).")
    var anderson: Int?

    func validate() throws { _ = try options() }

    func options() throws -> SinkhornOptions {
        guard threshold > 0, threshold.isFinite else { throw ValidationError("--threshold must be a positive number") }
        guard maxIterations >= 1 else { throw ValidationError("--max-iterations must be at least 1") }
        let choice: EpsilonChoice
        if epsilon == "auto" {
            choice = .auto
        } else if let value = Double(epsilon), value.isFinite, value > 0 {
            choice = .fixed(value)
        } else {
            throw ValidationError("--epsilon must be a positive number or 'auto', got '\(epsilon)'")
        }
        var options = SinkhornOptions(epsilon: choice, threshold: threshold, maxIterations: maxIterations, mode: mode)
        if let momentum {
            if momentum.hasPrefix("adaptive:"), let start = Int(momentum.dropFirst("adaptive:".count)) {
                options.momentum = .adaptive(start: start)
            } else if let omega = Double(momentum) {
                options.momentum = .fixed(omega)
            } else {
                throw ValidationError("--momentum must be a number in (0, 2) or adaptive:START with START ≥ 3, got '\(momentum)'")
            }
        }
        switch (epsilonInit, epsilonDecay) {
        case (nil, nil): break
        case let (initial?, decay?): options.epsilonScaling = SinkhornEpsilonScaling(initialMultiplier: initial, decay: decay)
        default: throw ValidationError("--epsilon-init and --epsilon-decay go together (ε-scaling)")
        }
        if let anderson { options.anderson = SinkhornAnderson(memory: anderson) }
        // The ranges are the solver's own checks; the message adds the flag.
        func check(_ flag: String, _ validate: () throws -> Void) throws {
            do { try validate() } catch let error as TransportError { throw ValidationError("\(flag): \(error)") }
        }
        try check("--momentum") { _ = try options.momentum?.validated() }
        try check("--epsilon-init/--epsilon-decay") { _ = try options.epsilonScaling?.validated() }
        try check("--anderson") { _ = try options.anderson?.validated() }
        return options
    }
}

/// Float or Double for `perturbot ot` and `perturbot bench sinkhorn`.
enum Precision: String, ExpressibleByArgument, CaseIterable {
    case float, double
}

/// A failure of a command that is not a file or solver error, printed as given.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension SinkhornOptions.Mode: ExpressibleByArgument {}
extension AlphaSchedule: ExpressibleByArgument {}

/// The map estimators the command line offers, by pipeline name.
enum MapMethod: String, ExpressibleByArgument, CaseIterable {
    case eot, untuned, debiased, progot, mbo, identity, mean_shift, icnn, monge_gap, sparse_icnn, egnot

    /// `eot` and `mbo` tune ε unless one is given; `untuned` always uses OTT's default; the neural
    /// methods train for `iterations` (nil: their defaults). `cost` is the ground cost of the
    /// entropic methods; `mbo` takes its penalty from an elastic cost (elastic_l1 when none is given).
    func estimator(epsilon: EpsilonChoice, steps: Int, alpha: AlphaSchedule, iterations: Int?,
                   sinkhorn: SinkhornOptions, cost: GroundCost,
                   sparsity: (penalty: SparsityPenalty, lambda: Double, dimensionThreshold: Double?)) throws -> any MapEstimator {
        switch (self, cost) {
        case (.eot, _), (.untuned, _), (.progot, _), (.mbo, _), (_, .squaredEuclidean): break
        default:
            throw CommandError("--cost \(cost.name) applies to --map eot, untuned, progot and mbo; \(rawValue) uses ‖x − y‖² only")
        }
        switch self {
        case .eot:
            if case .fixed = epsilon { return EntropicMapEstimator(epsilon: .choice(epsilon), sinkhorn: sinkhorn, cost: cost) }
            return EntropicMapEstimator(epsilon: .tuned(EpsilonTuning()), sinkhorn: sinkhorn, cost: cost)
        case .untuned: return EntropicMapEstimator(epsilon: .choice(.auto), sinkhorn: sinkhorn, cost: cost)
        case .mbo:
            let choice: EntropicEpsilon
            if case .fixed = epsilon { choice = .choice(epsilon) } else { choice = .tuned(EpsilonTuning()) }
            switch cost {
            case .elasticSTVS(let lambda, let gamma):
                return MBOEstimator(penalty: .stvs, lambda: lambda, gamma: gamma, epsilon: choice, sinkhorn: sinkhorn)
            case .elasticL1(let lambda):
                return MBOEstimator(penalty: .l1, lambda: lambda, epsilon: choice, sinkhorn: sinkhorn)
            default:
                throw CommandError("--map mbo needs --cost elastic_l1 or elastic_stvs, got \(cost.name)")
            }
        case .debiased: return DebiasedMapEstimator(epsilon: epsilon, sinkhorn: sinkhorn)
        case .progot:
            if case .fixed(let value) = epsilon {
                return ProgOTEstimator(steps: steps, alpha: alpha, epsilon: .fixed(Array(repeating: value, count: steps)),
                                       sinkhorn: sinkhorn, cost: cost)
            }
            return ProgOTEstimator(steps: steps, alpha: alpha, sinkhorn: sinkhorn, cost: cost)
        case .identity: return IdentityEstimator()
        case .mean_shift: return MeanShiftEstimator()
        case .icnn:
            var estimator = ICNNOTEstimator()
            if let iterations { estimator.iterations = iterations }
            return estimator
        case .monge_gap:
            var estimator = MongeGapEstimator()
            if let iterations { estimator.iterations = iterations }
            estimator.epsilon = epsilon
            return estimator
        case .egnot:
            var estimator = EnergyGuidedOTEstimator()
            if let iterations { estimator.iterations = iterations }
            estimator.epsilon = epsilon
            return estimator
        case .sparse_icnn:
            var estimator = SparseICNNEstimator()
            if let iterations {
                estimator.initIterations = iterations
                estimator.adjustIterations = Swift.max(1, iterations / 10)
                estimator.smoothIterations = Swift.max(1, iterations / 10)
            }
            estimator.initialLambda = sparsity.lambda
            estimator.penalty = sparsity.penalty.penalty
            if let limit = sparsity.dimensionThreshold { estimator.mode = .dimensionThreshold(limit) }
            return estimator
        }
    }
}

/// The displacement penalties of `--map sparse_icnn`, with unit widths.
enum SparsityPenalty: String, ExpressibleByArgument, CaseIterable {
    case smoothed_l0, l1, stvs

    var penalty: DisplacementPenalty {
        switch self {
        case .smoothed_l0: .smoothedL0(sigma: 1)
        case .l1: .l1
        case .stvs: .stvs(gamma: 1)
        }
    }
}

/// The two precisions the commands run in, each calling the non-generic library entry points.
protocol CommandScalar: TransportScalar {
    static func sinkhorn(_ x: Matrix<Self>, _ y: Matrix<Self>, _ options: SinkhornOptions, _ cost: GroundCost) throws -> SinkhornResult<Self>
    static func divergence(_ x: Matrix<Self>, _ y: Matrix<Self>, _ options: SinkhornOptions, _ cost: GroundCost) throws -> SinkhornDivergence
    static func fit(_ estimator: any MapEstimator, _ x: Matrix<Self>, _ y: Matrix<Self>, _ rng: inout SeededRNG) throws -> any TransportMap<Self>
}

extension Float: CommandScalar {
    static func sinkhorn(_ x: Matrix<Float>, _ y: Matrix<Float>, _ options: SinkhornOptions, _ cost: GroundCost) throws -> SinkhornResult<Float> {
        try Sinkhorn.solve(source: x, target: y, options: options, cost: cost)
    }
    static func divergence(_ x: Matrix<Float>, _ y: Matrix<Float>, _ options: SinkhornOptions, _ cost: GroundCost) throws -> SinkhornDivergence {
        try SinkhornDivergence.compute(source: x, target: y, options: options, cost: cost)
    }
    static func fit(_ estimator: any MapEstimator, _ x: Matrix<Float>, _ y: Matrix<Float>, _ rng: inout SeededRNG) throws -> any TransportMap<Float> {
        try estimator.fit(source: x, target: y, rng: &rng)
    }
}

extension Double: CommandScalar {
    static func sinkhorn(_ x: Matrix<Double>, _ y: Matrix<Double>, _ options: SinkhornOptions, _ cost: GroundCost) throws -> SinkhornResult<Double> {
        try Sinkhorn.solve(source: x, target: y, options: options, cost: cost)
    }
    static func divergence(_ x: Matrix<Double>, _ y: Matrix<Double>, _ options: SinkhornOptions, _ cost: GroundCost) throws -> SinkhornDivergence {
        try SinkhornDivergence.compute(source: x, target: y, options: options, cost: cost)
    }
    static func fit(_ estimator: any MapEstimator, _ x: Matrix<Double>, _ y: Matrix<Double>, _ rng: inout SeededRNG) throws -> any TransportMap<Double> {
        try estimator.fit(source: x, target: y, rng: &rng)
    }
}

extension SolverStep {
    /// One run as a line of `perturbot ot`'s text output.
    var line: String {
        var parts = ["ε \(String(format: "%.4g", epsilon))"]
        if let alpha { parts.append("α \(String(format: "%.4g", alpha))") }
        if let scale { parts.append("scale \(String(format: "%.4g", scale))") }
        if let heldOutError { parts.append("held-out error \(String(format: "%.4g", heldOutError))") }
        parts.append("\(iterations) iterations")
        parts.append(converged ? "converged" : "NOT converged (marginal error \(marginalError.map { String(format: "%.3g", $0) } ?? "not finite") ≥ threshold \(String(format: "%.3g", threshold)))")
        return "\(role.rawValue) \(index): " + parts.joined(separator: ", ")
    }

    /// One run as `perturbot ot --json` prints it (absent fields are null).
    var json: JSONValue {
        .object([
            ("role", .string(role.rawValue)), ("index", .integer(index)), ("epsilon", .number(epsilon)),
            ("alpha", alpha.map(JSONValue.number) ?? .null), ("scale", scale.map(JSONValue.number) ?? .null),
            ("held_out_error", heldOutError.map(JSONValue.number) ?? .null), ("threshold", .number(threshold)),
            ("iterations", .integer(iterations)), ("converged", .bool(converged)),
            ("marginal_error", marginalError.map(JSONValue.number) ?? .null),
        ])
    }
}

extension ParameterValue {
    /// A command-line value read as a pipeline file's plain YAML scalar would be: an integer, a
    /// number, true/false, or text.
    static func parsing(_ text: String) -> ParameterValue {
        if let value = Int(text) { return .integer(value) }
        if let value = Double(text), value.isFinite { return .number(value) }
        if text == "true" { return .flag(true) }
        if text == "false" { return .flag(false) }
        return .text(text)
    }
}

/// Reads a source and a target point cloud and checks they have the same dimension.
func readCloudPair(source: String, target: String, obsm: String? = nil) throws -> (Matrix<Double>, Matrix<Double>) {
    let x = try PointCloudFile.read(source, obsm: obsm)
    let y = try PointCloudFile.read(target, obsm: obsm)
    guard x.cols == y.cols else {
        throw CommandError("\(source) has \(x.cols) coordinates per point but \(target) has \(y.cols)")
    }
    return (x, y)
}
