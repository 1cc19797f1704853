import ArgumentParser
import Methods
import Transport

/// A method of the catalog named on the command line (`--map NAME`).
struct MethodName: ExpressibleByArgument {
    let configuration: any MethodConfiguration.Type

    init?(argument: String) {
        guard let configuration = MethodCatalog.configuration(named: argument) else { return nil }
        self.configuration = configuration
    }

    var name: String { configuration.name }

    static var allValueStrings: [String] { MethodCatalog.names }
}

/// The command line's way to configure a catalog method: a few named flags, each one parameter
/// of the method (refused when the method has no such parameter), and `--set KEY=VALUE` for
/// any parameter. The method itself is built by the catalog.
struct MethodArguments: ParsableArguments {
    @Option(parsing: .unconditional, help: "ProgOT: number of steps (the method's `steps`).")
    var steps: Int?

    @Option(parsing: .unconditional, help: "ProgOT: step-size schedule lin, exp or quad (`alpha`).")
    var alpha: String?

    @Option(parsing: .unconditional, help: "Training length of the neural maps (`iterations`; sparse_icnn: iterations at the initial λ, a tenth of that after each λ proposal).")
    var iterations: Int?

    @Option(parsing: .unconditional, help: "mbo: l1 or stvs; sparse_icnn: smoothed_l0, l1 or stvs (`penalty`).")
    var penalty: String?

    @Option(parsing: .unconditional, help: "λ of an elastic --cost, of mbo, or sparse_icnn's initial λ (`lambda`).")
    var lambda: Double?

    @Option(parsing: .unconditional, help: "sparse_icnn: keep the mean number of moved coordinates ≤ this instead of annealing λ (`dimension_threshold`).")
    var dimensionThreshold: Double?

    @Option(name: .customLong("set"),
            help: "Any parameter of the map's method as a pipeline file writes it, KEY=VALUE (repeatable; `perturbot methods` lists them).")
    var parameters: [String] = []

    func validate() throws {
        if let iterations, iterations < 1 { throw ValidationError("--iterations must be at least 1") }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        if let lambda, !(lambda >= 0 && lambda.isFinite) { throw ValidationError("--lambda must be a number ≥ 0") }
        if let dimensionThreshold, !(dimensionThreshold >= 0) { throw ValidationError("--dimension-threshold must be ≥ 0") }
        for assignment in parameters { _ = try Self.split(assignment) }
    }

    /// `method` configured from these flags, `sinkhorn`'s explicit flags (given to the method
    /// where it takes them; they also set the printed solve) and `cost` (nil: not given).
    func configure(_ method: MethodName, sinkhorn: SinkhornArguments, cost: GroundCost?) throws -> ConfiguredMethod {
        let type = method.configuration
        func takes(_ key: String) -> Bool { type.takes(key) }
        func parameterList() -> String {
            let names = type.parameterNames
            return names.isEmpty ? "none" : names.joined(separator: ", ")
        }
        var assignments: [(key: String, value: ParameterValue)] = []
        var sources: [String] = []
        func assign(_ key: String, _ value: ParameterValue, from flag: String) {
            assignments.append((key, value))
            sources.append(flag)
        }
        let sinkhornAssignments = try sinkhorn.methodAssignments()
        for (key, value, flag) in sinkhornAssignments where takes(key) { assign(key, value, from: flag) }
        // A balanced map fitted beside an unbalanced printed solve would say nothing of it.
        if let tau = sinkhornAssignments.first(where: { $0.key.hasPrefix("tau_") && !takes($0.key) }) {
            throw CommandError("\(tau.flag): --map \(method.name) fits balanced OT only (unbalanced maps: \(Self.methods { $0.takes("tau_a") }))")
        }
        if case .text("tuned")? = sinkhornAssignments.first(where: { $0.key == "epsilon" })?.value, !takes("epsilon") {
            throw CommandError("--epsilon tuned: \(method.name) has no ε to tune (methods that tune: \(Self.methods { $0.takes("epsilon") }))")
        }
        if let cost {
            guard let costAssignments = type.assignments(forCost: cost) else {
                throw CommandError("--cost \(cost.name) does not apply to --map \(method.name), which uses ‖x − y‖² only (costs apply to: \(Self.methods { $0.assignments(forCost: .elasticL1(lambda: 1)) != nil }))")
            }
            for (key, value) in costAssignments { assign(key, value, from: "--cost") }
        }
        let elasticCost = cost.map { $0.name.hasPrefix("elastic") } ?? false
        let named: [(flag: String, key: String, value: ParameterValue?)] = [
            ("--steps", "steps", steps.map(ParameterValue.integer)),
            ("--alpha", "alpha", alpha.map(ParameterValue.text)),
            ("--iterations", "iterations", iterations.map(ParameterValue.integer)),
            ("--penalty", "penalty", penalty.map(ParameterValue.text)),
            ("--lambda", "lambda", elasticCost ? nil : lambda.map(ParameterValue.number)),
            ("--dimension-threshold", "dimension_threshold", dimensionThreshold.map(ParameterValue.number)),
        ]
        for (flag, key, value) in named {
            guard let value else { continue }
            guard takes(key) else { throw CommandError("\(flag): \(method.name) has no parameter '\(key)' (it takes: \(parameterList()))") }
            assign(key, value, from: flag)
        }
        for assignment in parameters {
            let (key, value) = try Self.split(assignment)
            assign(key, value, from: "--set")
        }
        let (configured, problems) = MethodCatalog.configure(type, assignments)
        if let (index, problem) = problems.first {
            let flag = index.map { sources[$0] } ?? "--map \(method.name)"
            switch problem {
            case .unknownParameter(let key, _):
                throw CommandError("\(flag): \(method.name) has no parameter '\(key)' (it takes: \(parameterList()))")
            case .invalidValue(_, let message), .combination(let message):
                throw CommandError("\(flag): \(message)")
            }
        }
        guard let configured else { throw CommandError("--map \(method.name): cannot configure the method") }
        return configured
    }

    private static func split(_ assignment: String) throws -> (String, ParameterValue) {
        guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
            throw ValidationError("--set expects KEY=VALUE, got '\(assignment)'")
        }
        return (String(assignment[..<equals]), ParameterValue.parsing(String(assignment[assignment.index(after: equals)...])))
    }

    private static func methods(where predicate: (any MethodConfiguration.Type) -> Bool) -> String {
        MethodCatalog.configurations.filter(predicate).map { $0.name }.joined(separator: ", ")
    }
}
