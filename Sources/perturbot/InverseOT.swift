import AnnData
import ArgumentParser
import Foundation
import InverseTransport
import LinearAlgebra
import Pipeline
import Progress
import Transport

/// `perturbot iot`: learn the interaction matrix A of a bilinear cost c(x, y) = −xᵀAy from
/// observed pairs (inverse OT, Andrade, Peyré & Poon, ICLR 2024).
struct InverseOT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iot",
        abstract: "Inverse OT: estimate A of the cost c(x, y) = −xᵀAy from observed pairs (x_i, y_i), with an ℓ1 or nuclear-norm penalty.",
        discussion: """
            --pairs is a CSV or .npy file with one pair per row, x's coordinates then y's (by default \
            the first half of the columns is x; --x-columns/--y-columns pick 1-based inclusive ranges \
            such as 1:10 and 11:20), or an .h5ad file with the two halves in obsm (--obsm-x, --obsm-y; \
            default x and y, as `perturbot generate iot-graph` writes them). x and y are centred. \
            The estimator is argmin_A L(A) + λR(A) with L the iOT loss ⟨c_A, π̂⟩ − W_ε(c_A) on the \
            empirical coupling. --solver joint (the default for l1 and none) minimises it jointly \
            with the dual potential by OWL-QN, one pass over the n × n plan a step; --solver nested \
            (the nuclear norm's) runs FISTA with a converged Sinkhorn at every step, thousands of \
            passes a step at small ε. Both stop on the same rule and reach the same Â.
            """)

    @Option(parsing: .unconditional, help: "Observed pairs: .csv, .npy or .h5ad.")
    var pairs: String

    @Option(parsing: .unconditional, help: "CSV/.npy: x's columns, FIRST:LAST (1-based, inclusive).")
    var xColumns: String?

    @Option(parsing: .unconditional, help: "CSV/.npy: y's columns, FIRST:LAST (1-based, inclusive).")
    var yColumns: String?

    @Option(parsing: .unconditional, help: ".h5ad: the obsm entry holding x (default x).")
    var obsmX: String?

    @Option(parsing: .unconditional, help: ".h5ad: the obsm entry holding y (default y).")
    var obsmY: String?

    @Option(parsing: .unconditional, help: "Entropic regularisation ε of the coupling (> 0).")
    var epsilon: Double

    @Option(parsing: .unconditional, help: "Penalty weight λ (≥ 0).")
    var lambda: Double

    @Option(parsing: .unconditional, help: "l1 (sparse A), nuclear (low-rank A) or none.")
    var penalty: InverseOTPenalty = .l1

    @Option(parsing: .unconditional, help: "Where to write Â (dx × dy) as CSV.")
    var out: String

    @Option(parsing: .unconditional, help: "A CSV with the true A: report the wrongly estimated positions of the support.")
    var truth: String?

    @Option(parsing: .unconditional, help: "auto (joint for l1 and none, nested for nuclear), joint or nested.")
    var solver: InverseOTSolver = .automatic

    @Option(parsing: .unconditional, help: "Steps at most (quasi-Newton steps, or FISTA steps for the nested solver).")
    var maxIterations = InverseOTOptions().maxIterations

    @Option(parsing: .unconditional, help: "Stop when the gradient mapping's norm is below this × ‖(1/n)XᵀY‖_F.")
    var tolerance = InverseOTOptions().tolerance

    @Option(parsing: .unconditional, help: "An entry is in the support when |A_ij| > this × max|A| (and a singular value counts toward the rank when σ > this × σ_max).")
    var supportTolerance = InverseOTOptions().supportTolerance

    @Option(parsing: .unconditional, help: "The plan's L1 column-marginal threshold (the nested solver's inner Sinkhorn stops on it too).")
    var sinkhornThreshold = InverseOTProblem.defaultSinkhorn.threshold

    @Flag(help: "Print one JSON object.")
    var json = false

    /// Checked inside `run` so that a bad value is one `perturbot: error:` line, not a usage page.
    func checkArguments() throws {
        guard epsilon.isFinite, epsilon > 0 else { throw ValidationError("--epsilon must be a positive number, got \(epsilon)") }
        guard lambda.isFinite, lambda >= 0 else { throw ValidationError("--lambda must be a number ≥ 0, got \(lambda)") }
        guard maxIterations >= 1 else { throw ValidationError("--max-iterations must be at least 1") }
        guard tolerance > 0, tolerance.isFinite else { throw ValidationError("--tolerance must be positive") }
        guard sinkhornThreshold > 0, sinkhornThreshold.isFinite else { throw ValidationError("--sinkhorn-threshold must be positive") }
        let isAnnData = pairs.lowercased().hasSuffix(".h5ad")
        if isAnnData, xColumns != nil || yColumns != nil {
            throw ValidationError("--x-columns and --y-columns apply to CSV and .npy pairs; for .h5ad use --obsm-x and --obsm-y")
        }
        if !isAnnData, obsmX != nil || obsmY != nil {
            throw ValidationError("--obsm-x and --obsm-y apply to .h5ad pairs; for CSV and .npy use --x-columns and --y-columns")
        }
        if solver == .joint, penalty == .nuclear {
            throw ValidationError("--solver joint takes --penalty l1 or none; the nuclear norm needs --solver nested (or auto)")
        }
        if (xColumns == nil) != (yColumns == nil) { throw ValidationError("give both --x-columns and --y-columns, or neither") }
    }

    func run() throws {
        try reportingErrors {
            try checkArguments()
            let (x, y) = try readPairs()
            let problem = try InverseOTProblem(x: x, y: y, epsilon: epsilon)
            var sinkhorn = InverseOTProblem.defaultSinkhorn
            sinkhorn.threshold = sinkhornThreshold
            let options = InverseOTOptions(penalty: penalty, lambda: lambda, maxIterations: maxIterations, tolerance: tolerance,
                                           supportTolerance: supportTolerance, sinkhorn: sinkhorn, solver: solver)
            let expected = try truth.map { try readTruth($0, rows: x.cols, cols: y.cols) }
            let start = DispatchTime.now().uptimeNanoseconds
            let progress = ProgressLine()
            let result = try TrainingProgress.reporting(to: { progress.training($0) }) {
                try InverseOTEstimator.fit(problem, options: options)
            }
            progress.finish()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            try PointCloudFile.writeCSV(result.interaction, to: out)
            let comparison = expected.map { SupportComparison(estimate: result.support, truth: $0) }
            if json {
                var members: [(String, JSONValue)] = [
                    ("pairs", .integer(x.rows)), ("dx", .integer(x.cols)), ("dy", .integer(y.cols)),
                    ("epsilon", .number(epsilon)), ("lambda", .number(lambda)), ("penalty", .string(penalty.rawValue)),
                    ("support_size", .integer(result.supportSize)), ("rank", .integer(result.rank)),
                    ("singular_values", .array(result.singularValues.map { .number($0) })),
                    ("loss", .number(result.loss)), ("objective", .number(result.objective)),
                    ("solver", .string(result.solver.rawValue)),
                    ("outer_iterations", .integer(result.outerIterations)), ("sinkhorn_iterations", .integer(result.sinkhornIterations)),
                    ("plan_passes", .integer(result.planPasses)), ("marginal_error", .number(result.marginalError)),
                    ("unconverged_sinkhorn_runs", .integer(result.unconvergedSinkhornRuns)),
                    ("converged", .bool(result.converged)), ("relative_gradient_mapping", .number(result.relativeGradientMapping)),
                    ("seconds", .number(seconds)), ("out", .string(out)),
                ]
                if let comparison {
                    members.append(("wrong_positions", .integer(comparison.wrong)))
                    members.append(("false_positives", .integer(comparison.falsePositives)))
                    members.append(("false_negatives", .integer(comparison.falseNegatives)))
                }
                print(JSONValue.object(members).serialized)
            } else {
                print("pairs: \(x.rows) (x: \(x.cols) coordinates, y: \(y.cols)); ε \(epsilon), λ \(lambda), penalty \(penalty.rawValue)")
                print("support: \(result.supportSize) of \(result.support.count) entries; rank \(result.rank)")
                print("loss: \(result.loss); objective L + λR: \(result.objective)")
                print("solver: \(result.solver.rawValue); \(result.outerIterations) steps"
                      + (result.solver == .nested ? ", \(result.sinkhornIterations) Sinkhorn iterations" : "")
                      + ", \(result.planPasses) passes over the plan"
                      + (result.unconvergedSinkhornRuns > 0 ? " (\(result.unconvergedSinkhornRuns) Sinkhorn runs hit their cap)" : ""))
                print("converged: " + (result.converged ? "yes" : "no: after \(result.outerIterations) steps (--max-iterations) the gradient mapping is \(result.relativeGradientMapping) × ‖XᵀY/n‖ (tolerance \(tolerance)) and the marginal error \(result.marginalError) (threshold \(sinkhornThreshold))"))
                if let comparison {
                    print("against \(truth ?? ""): \(comparison.wrong) wrong positions (\(comparison.falsePositives) false positives, \(comparison.falseNegatives) false negatives)")
                }
                print("wrote \(out) (\(x.cols) × \(y.cols)) in \(String(format: "%.1f", seconds)) s")
            }
        }
    }

    private func readPairs() throws -> (Matrix<Double>, Matrix<Double>) {
        if pairs.lowercased().hasSuffix(".h5ad") {
            let x = try PointCloudFile.read(pairs, obsm: obsmX ?? "x")
            let y = try PointCloudFile.read(pairs, obsm: obsmY ?? "y")
            return (x, y)
        }
        let all = try PointCloudFile.read(pairs)
        let xRange: ClosedRange<Int>, yRange: ClosedRange<Int>
        if let xColumns, let yColumns {
            xRange = try columnRange(xColumns, flag: "--x-columns", width: all.cols)
            yRange = try columnRange(yColumns, flag: "--y-columns", width: all.cols)
        } else {
            guard all.cols % 2 == 0 else {
                throw ValidationError("\(pairs): \(all.cols) columns cannot be split into x then y halves; give --x-columns and --y-columns")
            }
            xRange = 1...(all.cols / 2)
            yRange = (all.cols / 2 + 1)...all.cols
        }
        let columns = { (range: ClosedRange<Int>) in
            Matrix<Double>(rows: all.rows, cols: range.count) { i, j in all[i, range.lowerBound - 1 + j] }
        }
        return (columns(xRange), columns(yRange))
    }

    private func columnRange(_ text: String, flag: String, width: Int) throws -> ClosedRange<Int> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let first = Int(parts[0]), let last = Int(parts[1]), first >= 1, last >= first else {
            throw ValidationError("\(flag) expects FIRST:LAST with 1 ≤ FIRST ≤ LAST (1-based, inclusive), got '\(text)'")
        }
        guard last <= width else { throw ValidationError("\(flag) \(text): \(pairs) has only \(width) columns") }
        return first...last
    }

    private func readTruth(_ path: String, rows: Int, cols: Int) throws -> [Bool] {
        let matrix = try PointCloudFile.read(path)
        guard matrix.rows == rows, matrix.cols == cols else {
            throw ValidationError("--truth \(path) is \(matrix.rows) × \(matrix.cols), expected \(rows) × \(cols) (x × y coordinates)")
        }
        return matrix.storage.map { $0 != 0 }
    }
}

/// Positions where an estimated support differs from the true one.
struct SupportComparison {
    let falsePositives: Int
    let falseNegatives: Int
    var wrong: Int { falsePositives + falseNegatives }

    init(estimate: [Bool], truth: [Bool]) {
        falsePositives = zip(estimate, truth).filter { $0 && !$1 }.count
        falseNegatives = zip(estimate, truth).filter { !$0 && $1 }.count
    }
}

extension InverseOTPenalty: ExpressibleByArgument {}
extension InverseOTSolver: ExpressibleByArgument {}
