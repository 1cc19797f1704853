import Foundation

/// One Sinkhorn run inside one fit of a pipeline (an ε-search scale, a ProgOT step, a final
/// solve), as `steps.csv` and the report's convergence section show it.
public struct SolverRunRow: Sendable, Equatable {
    public let drug: String
    public let components: Int
    public let method: String
    public let seed: UInt64
    /// epsilon_search, progot_step, transport or source_self.
    public let role: String
    /// 1-based within its role.
    public let index: Int
    public let epsilon: Double
    public let alpha: Double?
    public let scale: Double?
    public let heldOutError: Double?
    public let threshold: Double
    public let iterations: Int
    public let converged: Bool
    public let marginalError: Double?

    public init(drug: String, components: Int, method: String, seed: UInt64, role: String, index: Int, epsilon: Double,
                alpha: Double?, scale: Double?, heldOutError: Double?, threshold: Double, iterations: Int,
                converged: Bool, marginalError: Double?) {
        self.drug = drug
        self.components = components
        self.method = method
        self.seed = seed
        self.role = role
        self.index = index
        self.epsilon = epsilon
        self.alpha = alpha
        self.scale = scale
        self.heldOutError = heldOutError
        self.threshold = threshold
        self.iterations = iterations
        self.converged = converged
        self.marginalError = marginalError
    }
}

/// `steps.csv` (every run) and the Markdown section that lists the runs that did not converge,
/// so a † in a results table can be traced to the step that caused it.
public struct SolverRunsReport: Sendable {
    public let rows: [SolverRunRow]
    /// Method order of the pipeline.
    public let methods: [String]
    /// Whether steps.csv splits each drug id `<context>/<condition>` into a `context` and a
    /// `drug` column, as results.csv does for a screen.
    public var contextColumn = false

    public init(rows: [SolverRunRow], methods: [String]) {
        self.rows = rows
        self.methods = methods
    }

    public static let csvHeader = "drug,d,seed,method,role,index,epsilon,alpha,scale,held_out_error,threshold,iterations,converged,marginal_error"

    public func csv() -> String {
        var out = (contextColumn ? "context," : "") + Self.csvHeader + "\n"
        for row in rows {
            let fields: [String] = drugCSVFields(row.drug, contextColumn: contextColumn) + [
                String(row.components), String(row.seed), csvField(row.method), row.role,
                String(row.index), number(row.epsilon), row.alpha.map(number) ?? "", row.scale.map(number) ?? "",
                row.heldOutError.map(number) ?? "", number(row.threshold), String(row.iterations),
                row.converged ? "true" : "false", row.marginalError.map(number) ?? "",
            ]
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }

    /// One method's runs over all its fits.
    public struct MethodSummary: Sendable {
        public let method: String
        public let fits: Int
        public let runs: Int
        public let iterations: Int
        public let mostIterations: Int
        public let notConverged: Int
    }

    /// Per method with runs, in the pipeline's order.
    public func methodSummaries() -> [MethodSummary] {
        methods.compactMap { method in
            let own = rows.filter { $0.method == method }
            guard !own.isEmpty else { return nil }
            return MethodSummary(method: method, fits: Set(own.map { "\($0.drug)|\($0.components)|\($0.seed)" }).count, runs: own.count,
                                 iterations: own.reduce(0) { $0 + $1.iterations }, mostIterations: own.map(\.iterations).max() ?? 0,
                                 notConverged: own.filter { !$0.converged }.count)
        }
    }

    /// Per method: fits, runs, total and largest iterations; then every run that missed its
    /// threshold, with its step.
    public func markdown() -> String {
        guard !rows.isEmpty else { return "" }
        var out = "\n## Solver runs\n\n"
        out += "Every Sinkhorn run of every fit is in `steps.csv` (ε-search scales, ProgOT steps with their ε_k, α_k "
        out += "and threshold, final solves). Per method, over all fits:\n\n"
        out += "| method | fits | runs | mean iterations per fit | most iterations in one run | runs not converged |\n"
        out += "|---|---|---|---|---|---|\n"
        for summary in methodSummaries() {
            out += "| \(summary.method) | \(summary.fits) | \(summary.runs) | \(String(format: "%.0f", Double(summary.iterations) / Double(summary.fits))) | "
            out += "\(summary.mostIterations) | \(summary.notConverged) |\n"
        }
        let failed = rows.filter { !$0.converged }
        if failed.isEmpty {
            out += "\nEvery run met its threshold.\n"
            return out
        }
        out += "\nRuns that did not meet their threshold (the † of the tables above):\n\n"
        out += "| drug | d | seed | method | run | ε | α | iterations | marginal error | threshold |\n"
        out += "|---|---|---|---|---|---|---|---|---|---|\n"
        for row in failed {
            out += "| \(row.drug) | \(row.components) | \(row.seed) | \(row.method) | \(row.role) \(row.index) | "
            out += "\(shortNumber(row.epsilon)) | \(row.alpha.map(shortNumber) ?? "—") | \(row.iterations) | "
            out += "\(row.marginalError.map(shortNumber) ?? "not finite") | \(shortNumber(row.threshold)) |\n"
        }
        return out
    }

    private func shortNumber(_ value: Double) -> String { String(format: "%.4g", value) }
}
