import AnnData
import Datasets
import Foundation
import Reports
import Stages

/// Writes an inverse-OT experiment's `results.csv` (one row per task), `table.csv` (per n × ε,
/// over seeds), `report.md` and `wrong_positions.svg`, each through a temporary file renamed
/// into place.
public enum InverseOTReportWriter {
    public static func folder(_ spec: InverseOTExperimentSpec, pipelineFile: String) -> URL {
        let out = spec.report.out
        if out.hasPrefix("/") { return URL(fileURLWithPath: out) }
        return URL(fileURLWithPath: pipelineFile).deletingLastPathComponent().appendingPathComponent(out).standardizedFileURL
    }

    /// One n × ε cell of the table, over its seeds.
    struct Cell {
        let pairs: Int
        let epsilon: Double
        let lambdaScale: Double
        let skipped: Bool
        let records: [InverseOTRecord]

        var lambda: Double { records.first?.lambda ?? .nan }
        func mean(_ value: (InverseOTRecord) -> Double) -> Double {
            records.isEmpty ? .nan : records.map(value).reduce(0, +) / Double(records.count)
        }
        func standardDeviation(_ value: (InverseOTRecord) -> Double) -> Double {
            guard records.count > 1 else { return 0 }
            let m = mean(value)
            return (records.map { (value($0) - m) * (value($0) - m) }.reduce(0, +) / Double(records.count - 1)).squareRoot()
        }
        var exact: Int { records.filter { $0.wrongPositions == 0 }.count }
        var converged: Int { records.filter(\.converged).count }
    }

    static func cells(_ spec: InverseOTExperimentSpec, _ records: [InverseOTRecord]) -> [Cell] {
        spec.epsilons.flatMap { epsilon in
            spec.lambdaScales.flatMap { scale in
                spec.pairs.map { n in
                    Cell(pairs: n, epsilon: epsilon, lambdaScale: scale, skipped: spec.isSkipped(pairs: n, epsilon: epsilon),
                         records: records.filter { $0.pairs == n && $0.epsilon == epsilon && $0.lambdaScale == scale })
                }
            }
        }
    }

    @discardableResult
    public static func write(spec: InverseOTExperimentSpec, pipelineFile: String, records: [InverseOTRecord],
                             failures: [(task: String, message: String)], wallSeconds: Double?) throws -> URL {
        let folder = folder(spec, pipelineFile: pipelineFile)
        let table = cells(spec, records)
        var files: [(String, String)] = []
        if spec.report.formats.contains(.csv) {
            files.append(("results.csv", resultsCSV(records)))
            files.append(("table.csv", tableCSV(table)))
        }
        let hasChart = spec.report.formats.contains(.svg) && !records.isEmpty
        if hasChart { files.append(("wrong_positions.svg", chart(spec, table))) }
        if spec.report.formats.contains(.markdown) {
            let digest = (try? Data(contentsOf: URL(fileURLWithPath: pipelineFile))).map(TaskCache.sha256) ?? "unknown"
            files.append(("report.md", markdown(spec, table, failures: failures, wallSeconds: wallSeconds, digest: digest, chart: hasChart)))
        }
        return try ReportFolder.write(files.map { ($0.0, Data($0.1.utf8)) }, to: folder)
    }

    static func resultsCSV(_ records: [InverseOTRecord]) -> String {
        var lines = ["pairs,epsilon,lambda0,seed,lambda,wrong_positions,false_positives,false_negatives,support_size,true_support_size,rank,"
                     + "max_abs_error,relative_error,loss,objective,solver,outer_iterations,sinkhorn_iterations,plan_passes,"
                     + "unconverged_sinkhorn_runs,converged,relative_gradient_mapping,marginal_error,seconds"]
        for r in records {
            lines.append([String(r.pairs), number(r.epsilon), number(r.lambdaScale), String(r.seed), number(r.lambda), String(r.wrongPositions),
                          String(r.falsePositives), String(r.falseNegatives), String(r.supportSize), String(r.trueSupportSize),
                          String(r.rank), number(r.maxAbsoluteError), number(r.relativeError), number(r.loss), number(r.objective),
                          r.solver.rawValue, String(r.outerIterations), String(r.sinkhornIterations), String(r.planPasses),
                          String(r.unconvergedSinkhornRuns), String(r.converged), number(r.relativeGradientMapping),
                          number(r.marginalError), number(r.seconds)].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func tableCSV(_ table: [Cell]) -> String {
        var lines = ["epsilon,lambda0,pairs,lambda,seeds,wrong_positions_mean,wrong_positions_sd,exact_recoveries,false_positives_mean,"
                     + "false_negatives_mean,relative_error_mean,outer_iterations_mean,sinkhorn_iterations_mean,plan_passes_mean,converged,seconds_mean"]
        for cell in table where !cell.records.isEmpty {
            lines.append([number(cell.epsilon), number(cell.lambdaScale), String(cell.pairs), number(cell.lambda), String(cell.records.count),
                          number(cell.mean { Double($0.wrongPositions) }), number(cell.standardDeviation { Double($0.wrongPositions) }),
                          String(cell.exact), number(cell.mean { Double($0.falsePositives) }), number(cell.mean { Double($0.falseNegatives) }),
                          number(cell.mean(\.relativeError)), number(cell.mean { Double($0.outerIterations) }),
                          number(cell.mean { Double($0.sinkhornIterations) }), number(cell.mean { Double($0.planPasses) }),
                          String(cell.converged), number(cell.mean(\.seconds))]
                .joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func chart(_ spec: InverseOTExperimentSpec, _ table: [Cell]) -> String {
        let series = spec.epsilons.flatMap { epsilon in spec.lambdaScales.map { scale in
            (name: "ε = \(InverseOTGrid.format(epsilon))" + (spec.lambdaScales.count > 1 ? ", λ₀ = \(InverseOTGrid.format(scale))" : ""),
             points: table.filter { $0.epsilon == epsilon && $0.lambdaScale == scale && !$0.records.isEmpty }.map { cell in
                 (x: Foundation.log10(Double(cell.pairs)), y: cell.mean { Double($0.wrongPositions) }, label: "n=\(cell.pairs)")
             })
        } }
        return SVGCharts.lines(title: "\(spec.name): wrongly estimated positions of supp A* (mean over seeds)",
                               xLabel: "log10 n (observed pairs)", yLabel: "wrong positions", series: series)
    }

    static func markdown(_ spec: InverseOTExperimentSpec, _ table: [Cell], failures: [(task: String, message: String)],
                         wallSeconds: Double?, digest: String, chart: Bool) -> String {
        let entries = spec.nodes * spec.nodes
        var lines = [
            "# \(spec.name)", "",
            "Inverse OT (Andrade, Peyré & Poon, ICLR 2024): \(spec.settings.penalty.rawValue)-regularised estimate of A in c(x, y) = −xᵀAy "
                + "from n pairs drawn exactly from the entropic coupling of N(0, I) and N(0, I) under A* = δI + diag(G1) − G "
                + "(\(spec.graph.rawValue) graph, \(spec.nodes) nodes, δ = \(number(spec.delta))), with λ = λ₀·√(log n / n), λ₀ ∈ {\(spec.lambdaScales.map(number).joined(separator: ", "))}. "
                + "A wrong position is an entry of the \(spec.nodes) × \(spec.nodes) matrix (\(entries) entries) in one support and not the other.",
            "",
            "- perturbot \(perturbotVersion), \(ISO8601DateFormatter().string(from: Date())); pipeline file SHA-256 \(digest.prefix(16))…",
            wallSeconds.map { String(format: "- wall time of this run: %.1f s (cached tasks cost nothing)", $0) } ?? "- wall time: not recorded",
            String(format: "- the tasks' own fit times, cached or not: %.1f s in all", table.flatMap(\.records).map(\.seconds).reduce(0, +)),
            "- estimator: " + solverDescription(spec.settings.solver.resolved(for: spec.settings.penalty))
                + "; stop when ‖gradient mapping‖_F ≤ \(number(spec.settings.tolerance)) × ‖XᵀY/n‖_F and the plan's L1 marginal error "
                + "≤ \(number(spec.settings.sinkhornThreshold)) (at most \(spec.settings.maxIterations) steps); "
                + "support = |Â_ij| > \(number(spec.settings.supportTolerance)) × max|Â|. A plan pass is one gemm and n² exponentials.",
            "",
        ]
        for epsilon in spec.epsilons {
            lines += ["## ε = \(InverseOTGrid.format(epsilon))", ""]
            if spec.settings.penalty == .l1, spec.graph != .erdos_renyi,
               let certificate = InverseOTGraphFit.certificate(graph: spec.graph, nodes: spec.nodes, delta: spec.delta, epsilon: epsilon) {
                lines += [String(format: "Seed 004's ℓ1 pre-certificate of the population problem at this ε: ‖ẑ_{I^c}‖_∞ = %.3f, ", certificate.offSupportMaximum)
                          + (certificate.nondegenerate ? "non-degenerate (< 1): the support is recoverable for λ ≳ √(log n / n) and n large enough."
                                                       : "degenerate (≥ 1): the theory does not promise support recovery at this ε."), ""]
            }
            lines += [

                      "| λ₀ | n | λ | wrong positions (mean ± sd) | exact recoveries | false pos. | false neg. | ‖Â − A*‖_F / ‖A*‖_F | steps | plan passes | converged | seconds |",
                      "|---|---|---|---|---|---|---|---|---|---|---|---|"]
            for cell in table where cell.epsilon == epsilon {
                let scale = InverseOTGrid.format(cell.lambdaScale)
                guard !cell.records.isEmpty else {
                    lines.append("| \(scale) | \(cell.pairs) | — | \(cell.skipped ? "skipped (the pipeline file's skip list)" : "no result") | | | | | | | | |")
                    continue
                }
                let s = cell.records.count
                lines.append("| \(scale) | \(cell.pairs) | \(String(format: "%.4f", cell.lambda)) | "
                             + String(format: "%.1f ± %.1f", cell.mean { Double($0.wrongPositions) }, cell.standardDeviation { Double($0.wrongPositions) })
                             + " | \(cell.exact)/\(s) | " + String(format: "%.1f", cell.mean { Double($0.falsePositives) })
                             + " | " + String(format: "%.1f", cell.mean { Double($0.falseNegatives) })
                             + " | " + String(format: "%.3f", cell.mean(\.relativeError))
                             + " | " + String(format: "%.0f", cell.mean { Double($0.outerIterations) })
                             + " | " + String(format: "%.0f", cell.mean { Double($0.planPasses) })
                             + " | \(cell.converged)/\(s)" + (cell.converged < s ? " †" : "")
                             + " | " + String(format: "%.1f", cell.mean(\.seconds)) + " |")
            }
            lines.append("")
        }
        if table.contains(where: { $0.records.contains { !$0.converged } }) {
            lines += ["† a fit stopped at its step cap before its gradient-mapping rule held (results.csv has the value reached).", ""]
        }
        if chart { lines += ["![wrong positions vs n](wrong_positions.svg)", ""] }
        if !failures.isEmpty {
            lines += ["## Failures", ""] + failures.map { "- `\($0.task)`: \($0.message)" } + [""]
        }
        return lines.joined(separator: "\n")
    }

    static func solverDescription(_ solver: InverseOTGraphFit.Solver) -> String {
        switch solver {
        case .nested: return "nested: FISTA with backtracking and gradient restarts, a warm-started Sinkhorn to the threshold at every point"
        case .joint, .automatic: return "joint: OWL-QN over (A, g) with f eliminated, one pass over the plan a step (no inner Sinkhorn)"
        }
    }

    static func number(_ value: Double) -> String {
        value.isFinite ? "\(value)" : "nan"
    }
}
