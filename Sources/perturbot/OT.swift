import AnnData
import ArgumentParser
import Foundation
import LinearAlgebra
import Methods
import NeuralTransport
import Pipeline
import Progress
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
            Map methods: `perturbot methods` lists each with its parameters (docs/methods.md). \
            The flags --epsilon, --threshold, --max-iterations, --mode, the accelerators, --cost, \
            --steps, --alpha, --iterations, --penalty, --lambda and --dimension-threshold set the \
            method's parameter of that name (a map-only flag its method does not take is refused); \
            --set KEY=VALUE sets any parameter. Without --epsilon, eot, mbo and progot tune ε.
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

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Fit this map on source → target (`perturbot methods` lists them and their parameters; egnot is stochastic: each output row is a draw of π(· | x)).",
        valueName: MethodCatalog.names.joined(separator: "|")))
    var map: MethodName?

    @Option(parsing: .unconditional, help: "Points to transport with the fitted map (needs --map).")
    var apply: String?

    @Option(parsing: .unconditional, help: "Where to write the transported points as CSV (needs --map and --apply).")
    var out: String?

    @Option(parsing: .unconditional, help: "Where to write each --apply point's retained mass under the fitted plan, one per line (1 = kept, < 1 = removed, > 1 = multiplied; needs --map).")
    var massOut: String?

    @OptionGroup var method: MethodArguments

    @Option(parsing: .unconditional, help: "Seed for the held-out split that tunes ε (eot, progot, mbo) and for the neural maps' initialisation, minibatches and samples.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "egnot (a stochastic map): draws of π(· | x) written per --apply point, consecutive rows (1).")
    var samplesPerPoint: Int = 1

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        if map != nil, apply == nil || out == nil {
            throw ValidationError("--map needs --apply QUERY and --out FILE")
        }
        if samplesPerPoint < 1 { throw ValidationError("--samples-per-point must be ≥ 1, got \(samplesPerPoint)") }
        if samplesPerPoint > 1, map?.configuration.stochastic != true {
            throw ValidationError("--samples-per-point needs a stochastic map (--map \(MethodCatalog.configurations.filter { $0.stochastic }.map { $0.name }.joined(separator: ", "))); \(map?.name ?? "no map") gives one point per query")
        }
        if map == nil, apply != nil || out != nil || massOut != nil {
            throw ValidationError("--apply, --out and --mass-out need --map METHOD")
        }
        if map == nil, !method.parameters.isEmpty { throw ValidationError("--set needs --map METHOD") }
    }

    /// The --cost flags' cost, nil when --cost is not given.
    private func givenCost() throws -> GroundCost? {
        guard costArguments.cost != nil else { return nil }
        return try costArguments.groundCost(lambda: method.lambda ?? GroundCost.defaultParameters.lambda)
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
        let configured = try map.map { try method.configure($0, sinkhorn: sinkhorn, cost: try givenCost()) }
        let options = try sinkhorn.options(tunedByMap: configured != nil)
        let xs: Matrix<Scalar> = x.converted(), ys: Matrix<Scalar> = y.converted()
        // The printed solve uses the --cost given, else the map's own cost.
        let groundCost = try givenCost() ?? configured?.configuration.groundCost ?? .squaredEuclidean
        let solution = try Scalar.sinkhorn(xs, ys, options, groundCost)
        var fields: [(String, JSONValue)] = [
            ("n", .integer(x.rows)), ("m", .integer(y.rows)), ("d", .integer(x.cols)),
            ("precision", .string(precision.rawValue)), ("cost", .string(groundCost.description)),
            ("epsilon", .number(solution.epsilon)),
            ("reg_ot_cost", .number(solution.regOTCost)),
            ("iterations", .integer(solution.iterations)),
            ("converged", .bool(solution.converged)),
            ("marginal_error", .number(solution.marginalError)),
            ("plan_mass", .number(solution.planMass ?? 1)),
        ]
        if !options.isBalanced {
            fields.insert(contentsOf: [("tau_a", JSONValue.number(options.tauA)), ("tau_b", .number(options.tauB))], at: 5)
        }
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
        if let map, let configured, let apply, let out {
            let query: Matrix<Scalar> = try PointCloudFile.read(apply, obsm: obsm).converted()
            guard query.cols == x.cols else {
                throw CommandError("\(apply) has \(query.cols) coordinates per point but \(source) has \(x.cols)")
            }
            var rng = SeededRNG(seed: seed)
            let estimator = configured.estimator()
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
            if let massOut {
                guard let masses = try fitted.retainedMass(query) else {
                    throw CommandError("--mass-out: the \(map.name) map cannot say how much mass each point keeps (docs/methods.md)")
                }
                try AtomicFile.write(Data(masses.map { "\($0)\n" }.joined().utf8), to: massOut)
            }
            let steps = fitted.solverSteps
            var mapFields: [(String, JSONValue)] = [
                ("method", .string(map.name)), ("converged", .bool(fitted.converged)),
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
            if !fitted.converged { warnings.append("the \(map.name) map's solver did not converge") }
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

/// The Sinkhorn options `perturbot ot` and `perturbot bench sinkhorn` share. Unset flags take
/// `SinkhornOptions`'s defaults for the printed solve and the method's own for a map.
struct SinkhornArguments: ParsableArguments {
    @Option(parsing: .unconditional, help: "ε: a positive number, 'auto' (0.05 × std of the cost matrix, OTT's default; the default of the printed solve), or, for a map that tunes it, 'tuned'.")
    var epsilon: String?

    @Option(parsing: .unconditional, help: "Stop when the L1 error of the column marginal is below this (\(SinkhornOptions().threshold)).")
    var threshold: Double?

    @Option(parsing: .unconditional, help: "Sinkhorn iteration limit (\(SinkhornOptions().maxIterations)).")
    var maxIterations: Int?

    @Option(parsing: .unconditional, help: "automatic, dense or online (online never holds the n×m cost matrix).")
    var mode: SinkhornOptions.Mode?

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

    @Option(parsing: .unconditional, help: "Unbalanced OT: τ_a in (0, 1], the weight ρ/(ρ + ε) of the KL penalty on the source marginal (1, the default, is balanced).")
    var tauA: Double?

    @Option(parsing: .unconditional, help: "Unbalanced OT: τ_b in (0, 1] on the target marginal.")
    var tauB: Double?

    func validate() throws { _ = try options(tunedByMap: true) }

    /// The options of a plain solve; `tuned` is accepted only when a map tunes ε, and the plain
    /// solve then runs at OTT's default.
    func options(tunedByMap: Bool = false) throws -> SinkhornOptions {
        let defaults = SinkhornOptions()
        let threshold = self.threshold ?? defaults.threshold, maxIterations = self.maxIterations ?? defaults.maxIterations
        guard threshold > 0, threshold.isFinite else { throw ValidationError("--threshold must be a positive number") }
        guard maxIterations >= 1 else { throw ValidationError("--max-iterations must be at least 1") }
        let choice: EpsilonChoice
        switch epsilon {
        case nil, "auto"?: choice = .auto
        case "tuned"? where tunedByMap: choice = .auto
        case "tuned"?: throw ValidationError("--epsilon tuned selects a map's ε by a held-out search: give --map, or 'auto' or a number")
        case let text?:
            guard let value = Double(text), value.isFinite, value > 0 else {
                throw ValidationError("--epsilon must be a positive number or 'auto', got '\(text)'")
            }
            choice = .fixed(value)
        }
        var options = SinkhornOptions(epsilon: choice, threshold: threshold, maxIterations: maxIterations, mode: mode ?? defaults.mode)
        if let momentum {
            switch SinkhornMomentum.parsing(.parsing(momentum)) {
            case .success(let value): options.momentum = value
            case .failure(let problem): throw ValidationError("--momentum \(problem.message)")
            }
        }
        switch (epsilonInit, epsilonDecay) {
        case (nil, nil): break
        case let (initial?, decay?): options.epsilonScaling = SinkhornEpsilonScaling(initialMultiplier: initial, decay: decay)
        default: throw ValidationError("--epsilon-init and --epsilon-decay go together (ε-scaling)")
        }
        if let anderson { options.anderson = SinkhornAnderson(memory: anderson) }
        options.tauA = tauA ?? 1
        options.tauB = tauB ?? 1
        // The ranges are the solver's own checks; the message adds the flag.
        func check(_ flag: String, _ validate: () throws -> Void) throws {
            do { try validate() } catch let error as TransportError { throw ValidationError("\(flag): \(error)") }
        }
        try check("--epsilon-init/--epsilon-decay") { _ = try options.epsilonScaling?.validated() }
        try check("--anderson") { _ = try options.anderson?.validated() }
        try check("--tau-a/--tau-b") { _ = try options.validatedTaus() }
        return options
    }

    /// The flags given, as a method's parameters (key, value, flag).
    func methodAssignments() throws -> [(key: String, value: ParameterValue, flag: String)] {
        var assignments: [(key: String, value: ParameterValue, flag: String)] = []
        if let epsilon { assignments.append(("epsilon", .parsing(epsilon), "--epsilon")) }
        if let threshold { assignments.append(("threshold", .number(threshold), "--threshold")) }
        if let maxIterations { assignments.append(("max_iterations", .integer(maxIterations), "--max-iterations")) }
        if let mode { assignments.append(("mode", .text(mode.rawValue), "--mode")) }
        if let momentum { assignments.append(("momentum", .parsing(momentum), "--momentum")) }
        if let epsilonInit { assignments.append(("epsilon_init", .number(epsilonInit), "--epsilon-init")) }
        if let epsilonDecay { assignments.append(("epsilon_decay", .number(epsilonDecay), "--epsilon-decay")) }
        if let anderson { assignments.append(("anderson", .integer(anderson), "--anderson")) }
        if let tauA { assignments.append(("tau_a", .number(tauA), "--tau-a")) }
        if let tauB { assignments.append(("tau_b", .number(tauB), "--tau-b")) }
        return assignments
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

/// Reads a source and a target point cloud and checks they have the same dimension.
func readCloudPair(source: String, target: String, obsm: String? = nil) throws -> (Matrix<Double>, Matrix<Double>) {
    let x = try PointCloudFile.read(source, obsm: obsm)
    let y = try PointCloudFile.read(target, obsm: obsm)
    guard x.cols == y.cols else {
        throw CommandError("\(source) has \(x.cols) coordinates per point but \(target) has \(y.cols)")
    }
    return (x, y)
}
