import Foundation

/// `report.md`: the ProgOT paper's layout — per drug, methods × d_PCA with mean ± std over seeds
/// (best in bold) for each metric — then the overall rank table and the failures.
public struct MarkdownReport: Sendable {
    public struct Metadata: Sendable {
        public let pipelineName: String
        public let pipelineDigest: String
        public let version: String
        public let date: String
        /// Wall time of the run that wrote the report; nil when `perturbot report` rebuilt it
        /// from the cache without running anything.
        public let wallSeconds: Double?
        /// Whether the metrics were computed in feature space (`pca: none`) rather than PCA space.
        public let featureSpace: Bool
        /// How the test cells were chosen, when not at random (an out-of-distribution split).
        public let splitNote: String?

        public init(pipelineName: String, pipelineDigest: String, version: String, date: String, wallSeconds: Double?,
                    featureSpace: Bool = false, splitNote: String? = nil) {
            self.splitNote = splitNote
            self.pipelineName = pipelineName
            self.pipelineDigest = pipelineDigest
            self.version = version
            self.date = date
            self.wallSeconds = wallSeconds
            self.featureSpace = featureSpace
        }
    }

    public let report: ResultsReport
    public let metadata: Metadata
    /// Task id → error, for tasks that failed or were skipped.
    public let failures: [(task: String, message: String)]

    /// Per drug, the plot files to show under its first table (names relative to the report).
    public let plots: [String: [String]]

    /// Unranked columns (the displacement dimensionality, fit time), shown as mean ± std without bold.
    public let descriptive: ResultsReport?
    /// Per descriptive metric, the sentence under its heading.
    public let descriptiveDescriptions: [String: String]

    /// Per drug, method and d_PCA: the features the map moves most, largest first.
    public let movedFeatures: [String: [String: [Int: [FeatureShift]]]]

    /// The solvers' own numbers (e.g. the sparse ICNN's final λ), one metric per diagnostic;
    /// methods without a value are left out of that diagnostic's tables.
    public let diagnostics: ResultsReport?

    /// Every Sinkhorn run of every fit, for the convergence section.
    public let solverRuns: SolverRunsReport?

    /// Methods whose maps draw samples (egnot), named under the header.
    public let stochasticMethods: [String]

    /// The gene-space scores (`evaluate.space: genes` or `both`): their ranked metrics are
    /// sections of `report` like any other; the DE agreement metrics are shown per drug in one
    /// table each.
    public struct GeneSpace: Sendable {
        /// How the predictions were decoded and scored, under the header.
        public let note: String
        /// Metrics of `report` shown in the DE tables rather than in sections of their own.
        public let differentialExpressionMetrics: [String]
        /// A reference row of the DE tables (the real held-out cells' own program recall), by
        /// its pseudo-method name in the rows; nil without one.
        public let reference: String?

        public init(note: String, differentialExpressionMetrics: [String], reference: String?) {
            self.note = note
            self.differentialExpressionMetrics = differentialExpressionMetrics
            self.reference = reference
        }
    }

    public let geneSpace: GeneSpace?

    /// `report.mass_by`: the mean retained mass of the held-out control cells by group.
    public struct RetainedMass: Sendable {
        public let key: String
        public let values: [String]
        /// Metrics `retained_mass (<key>=<value>)`, one per value.
        public let report: ResultsReport
        /// Drug → value → the retained mass the data's generator built in.
        public let expected: [String: [String: Double]]
        /// Drug → its bar chart.
        public let plots: [String: String]

        public init(key: String, values: [String], report: ResultsReport, expected: [String: [String: Double]], plots: [String: String]) {
            self.key = key
            self.values = values
            self.report = report
            self.expected = expected
            self.plots = plots
        }
    }

    public let retainedMass: RetainedMass?

    /// A screen's summary, first after the header (`ScreenSummary`); nil for a few drugs.
    public var screenSummary: ScreenSummary? = nil
    /// Whether the summary's SVG figures are written beside the report (report.formats has svg).
    public var screenFigures = false
    /// Whether each condition gets its own Markdown tables; off at thousands of conditions,
    /// where table.csv holds them.
    public var perConditionTables = true

    public init(report: ResultsReport, metadata: Metadata, failures: [(task: String, message: String)],
                plots: [String: [String]] = [:], descriptive: ResultsReport? = nil,
                descriptiveDescriptions: [String: String] = [:], movedFeatures: [String: [String: [Int: [FeatureShift]]]] = [:], diagnostics: ResultsReport? = nil,
                solverRuns: SolverRunsReport? = nil, stochasticMethods: [String] = [], retainedMass: RetainedMass? = nil,
                geneSpace: GeneSpace? = nil) {
        self.geneSpace = geneSpace
        self.retainedMass = retainedMass
        self.solverRuns = solverRuns
        self.stochasticMethods = stochasticMethods
        self.report = report
        self.metadata = metadata
        self.failures = failures
        self.plots = plots
        self.descriptive = descriptive
        self.descriptiveDescriptions = descriptiveDescriptions
        self.movedFeatures = movedFeatures
        self.diagnostics = diagnostics
    }

    /// What each solver diagnostic means, for its section.
    static let diagnosticDescriptions = [
        "final_lambda": "sparsity strength λ the displacement-sparse ICNN kept after its search",
        "sliced_w2": "sliced W₂ between the sparse ICNN's T#x and the training target on its evaluation sample (its Err)",
        "moved_coordinates": "mean number of solver-space (PCA) coordinates the sparse ICNN moves by more than its moved_tolerance",
        "fitting_divergence": "Sinkhorn divergence S_ε(T#x, y) of the Monge gap map on its last training batch",
        "monge_gap": "Monge gap of the Monge gap map on its last training batch (0 for an optimal map, up to entropic bias)",
        "epsilon": "ε of the entropic map's final Sinkhorn run (for eot, the tuned one); for egnot, its ε for the cost ½‖x − y‖² (the plan of eot at 2ε)",
        "epsilon_scale": "multiple of OTT's default ε of the (y, y) problem that eot's held-out search chose",
        "iterations": "Sinkhorn iterations of the entropic map's final run",
        "steps_unconverged": "ProgOT steps whose Sinkhorn run did not meet its threshold (the runs are listed under Solver runs)",
        "step_iterations": "Sinkhorn iterations of all ProgOT steps together (the ε search not included)",
        "unconverged_steps": "Monge gap training steps whose Sinkhorn solves hit their iteration limit",
        "final_loss": "energy-guided EOT's training loss −mean u(y_data) + mean u(y_Langevin), averaged over its last 100 steps (near 0 once the Langevin samples match the data)",
        "langevin_steps_test": "Langevin steps energy-guided EOT takes to draw each predicted cell",
    ]

    public func render() -> String {
        var out = "# \(metadata.pipelineName)\n\n"
        out += "Generated by perturbot \(metadata.version) on \(metadata.date); pipeline file SHA-256 `\(metadata.pipelineDigest)`; "
        if let wall = metadata.wallSeconds {
            out += String(format: "wall time %.1f s.\n\n", wall)
        } else {
            out += "rebuilt from the cache by `perturbot report` (no task run).\n\n"
        }
        out += "Values are mean ± standard deviation over seeds (lower is better unless a heading says otherwise), computed in "
        out += metadata.featureSpace ? "feature space (no PCA; d is the feature dimension); " : "PCA space; "
        out += "the best method of each column is in bold, ≈ marks a method that cannot be told from the best (the "
        out += String(format: "%.0f", ResultsReport.confidenceLevel * 100)
        out += " % t-interval of its paired difference from the best over the seeds, one split each, reaches 0; with a "
        out += "single seed nothing is marked), and † marks a result whose solver did not converge.\n"
        if let note = metadata.splitNote { out += "\n**Out-of-distribution split.** \(note)\n" }
        if let geneSpace { out += "\n**Gene space.** \(geneSpace.note)\n" }
        if !stochasticMethods.isEmpty {
            out += "\nStochastic maps: \(stochasticMethods.joined(separator: ", ")). Their predicted cells are draws y ~ π(· | x), one per "
            out += "test control cell, by Langevin sampling from a seeded generator: the distribution metrics compare the sampled cloud, "
            out += "and the per-cell figures (displacement, map MSE) measure single draws, not a conditional mean.\n"
        }
        if let screenSummary { out += screenSummary.markdown(figures: screenFigures) }
        if !perConditionTables {
            out += "\nThe \(report.drugs.count) conditions' own tables (every metric, method and d, with mean, std, rank, normalised "
            out += "score and ties) are in table.csv, one row each, and every value in results.csv; Markdown keeps the summaries.\n"
        }
        let compact = Set(geneSpace?.differentialExpressionMetrics ?? [])
        for metric in report.metrics where !compact.contains(metric) && perConditionTables {
            out += "\n## \(metric)\(report.higherIsBetter.contains(metric) ? " — higher is better" : "")\n"
            for drug in report.drugs {
                out += "\n### \(drug)\n\n"
                out += "| method | " + report.components.map { "d = \($0)" }.joined(separator: " | ") + " |\n"
                out += "|---|" + String(repeating: "---|", count: report.components.count) + "\n"
                for method in report.methods {
                    let cells = report.components.map { d -> String in
                        guard let cell = report.cell(drug: drug, components: d, method: method, metric: metric) else {
                            return report.hasResults(drug: drug, components: d, method: method) ? "undefined" : "failed"
                        }
                        let text = format(cell.mean) + " ± " + format(cell.std) + (cell.allConverged ? "" : " †")
                        if cell.rank == 1 { return "**\(text)**" }
                        return cell.tiedWithBest == true ? "≈ " + text : text
                    }
                    out += "| \(method) | " + cells.joined(separator: " | ") + " |\n"
                }
                if metric == report.metrics.first, let files = plots[drug], !files.isEmpty {
                    out += "\n" + files.map { "![\(drug)](\($0))" }.joined(separator: " ") + "\n"
                }
            }
        }
        if perConditionTables, let geneSpace, !geneSpace.differentialExpressionMetrics.isEmpty {
            out += differentialExpressionTables(geneSpace)
        }
        if perConditionTables, let retainedMass { out += retainedMassTables(retainedMass) }
        if let primary = report.metrics.first {
            out += "\n## Overall rank (\(primary), averaged over \(report.drugs.count) drug(s) × \(report.components.count) \(metadata.featureSpace ? "d" : "d_PCA"))\n\n"
            out += "A rank hides ties: \"best or ≈\" counts the columns where the method is the best or cannot be told from it.\n\n"
            out += "| method | mean rank | best or ≈ |\n|---|---|---|\n"
            for (method, rank) in report.methodsByOverallRank(metric: primary) {
                let ties = report.bestOrTied(method: method, metric: primary)
                out += "| \(method) | \(rank.map { String(format: "%.2f", $0) } ?? "—") | \(ties.count) of \(ties.of) |\n"
            }
        }
        if perConditionTables, let primary = report.metrics.first, report.cells.contains(where: { $0.metric == primary && $0.normalised != nil }) {
            out += "\n## Normalised score (\(primary))\n\n"
            out += "(unmoved − method) / (unmoved − noise ceiling), from the means over seeds of scores on equal samples: the "
            out += "held-out treated cells are cut in two seeded halves A and B, and each score compares B with |A| cells — A "
            out += "itself (the noise ceiling, a second sample of the treated cells), |A| held-out control cells unmoved, and the "
            out += "method's prediction for those control cells — so the metric's sample-size bias is the same for all three. "
            out += "1 = as close to B as a second sample of the treated cells, 0 = no better than the unmoved control cells, "
            out += "< 0 = worse, > 1 = closer than that sample (within noise). Higher is better. \"within noise\": the unmoved "
            out += "control cells are no farther from B than A is (by more than A's spread over seeds), so at this sample size no map "
            out += "can be told from the identity. The references' own values are in "
            out += "results.csv (methods `\(ResultsReport.noiseCeiling)`, `\(ResultsReport.unmoved)`; metric names ending in "
            out += "\"\(ResultsReport.halfSampleSuffix)\").\n"
            for drug in report.drugs {
                out += "\n### \(drug)\n\n| method | " + report.components.map { "d = \($0)" }.joined(separator: " | ") + " |\n"
                out += "|---|" + String(repeating: "---|", count: report.components.count) + "\n"
                for method in report.methods {
                    let cells = report.components.map { d -> String in
                        guard let cell = report.cell(drug: drug, components: d, method: method, metric: primary) else { return "—" }
                        if cell.effectWithinNoise { return "within noise" }
                        return cell.normalised.map { String(format: "%.3f", $0 + 0) } ?? "—"
                    }
                    out += "| \(method) | " + cells.joined(separator: " | ") + " |\n"
                }
            }
        }
        if perConditionTables, let descriptive {
            for metric in descriptive.metrics {
                out += "\n## \(metric) (not ranked)\n"
                if let description = descriptiveDescriptions[metric] { out += "\n" + description + "\n" }
                for drug in descriptive.drugs {
                    out += "\n### \(drug)\n\n| method | " + descriptive.components.map { "d = \($0)" }.joined(separator: " | ") + " |\n"
                    out += "|---|" + String(repeating: "---|", count: descriptive.components.count) + "\n"
                    for method in descriptive.methods {
                        let cells = descriptive.components.map { d in
                            descriptive.cell(drug: drug, components: d, method: method, metric: metric)
                                .map { format($0.mean) + " ± " + format($0.std) } ?? "failed"
                        }
                        out += "| \(method) | " + cells.joined(separator: " | ") + " |\n"
                    }
                }
            }
        }
        if perConditionTables, !movedFeatures.isEmpty {
            out += "\n## Features moved most (not ranked)\n\n"
            out += "Per method, the five features with the largest mean |T(x) − x| on the test control cells, in units of "
            out += "each feature's standard deviation over those cells (in brackets), averaged over seeds.\n"
            for drug in report.drugs {
                guard let byMethod = movedFeatures[drug] else { continue }
                out += "\n### \(drug)\n\n| method | " + report.components.map { "d = \($0)" }.joined(separator: " | ") + " |\n"
                out += "|---|" + String(repeating: "---|", count: report.components.count) + "\n"
                for method in report.methods {
                    let cells = report.components.map { d in
                        (byMethod[method]?[d] ?? []).map { "\($0.name) (\(String(format: "%.2f", $0.value)))" }.joined(separator: ", ")
                    }
                    out += "| \(method) | " + cells.map { $0.isEmpty ? "—" : $0 }.joined(separator: " | ") + " |\n"
                }
            }
        }
        if perConditionTables, let diagnostics, !diagnostics.metrics.isEmpty {
            out += "\n## Solver diagnostics (not ranked)\n"
            for metric in diagnostics.metrics {
                out += "\n### \(metric)\n\n"
                if let description = Self.diagnosticDescriptions[metric] { out += description.prefix(1).uppercased() + description.dropFirst() + ".\n\n" }
                out += "| drug | method | " + diagnostics.components.map { "d = \($0)" }.joined(separator: " | ") + " |\n"
                out += "|---|---|" + String(repeating: "---|", count: diagnostics.components.count) + "\n"
                for drug in diagnostics.drugs {
                    for method in diagnostics.methods {
                        let cells = diagnostics.components.map { d in
                            diagnostics.cell(drug: drug, components: d, method: method, metric: metric)
                        }
                        guard cells.contains(where: { $0 != nil }) else { continue }
                        let text = cells.map { cell in cell.map { format($0.mean) + " ± " + format($0.std) } ?? "—" }
                        out += "| \(drug) | \(method) | " + text.joined(separator: " | ") + " |\n"
                    }
                }
            }
        }
        if let solverRuns { out += solverRuns.markdown() }
        out += "\n## Failures\n\n"
        if failures.isEmpty {
            out += "None: every task succeeded.\n"
        } else {
            for failure in failures { out += "- `\(failure.task)`: \(failure.message)\n" }
        }
        return out
    }

    /// Per drug, one table of the DE agreement metrics: a row per method and d, a column per
    /// metric (mean over seeds; bold the best of each d, ≈ the tied; counts unranked).
    private func differentialExpressionTables(_ geneSpace: GeneSpace) -> String {
        let metrics = geneSpace.differentialExpressionMetrics
        var out = "\n## Differential expression agreement (gene space)\n\n"
        out += "Per drug, the DE of the predicted cells against their control cells compared with the DE of the held-out "
        out += "treated cells against the held-out control cells (cell-eval's metrics; docs/metrics.md defines each). "
        out += "Mean over seeds; higher is better except the counts (not ranked); bold is the best method at that d, ≈ as in "
        out += "the tables above.\n"
        func short(_ metric: String) -> String { metric.hasSuffix(" (genes)") ? String(metric.dropLast(8)) : metric }
        for drug in report.drugs {
            out += "\n### \(drug)\n\n| method | d | " + metrics.map(short).joined(separator: " | ") + " |\n"
            out += "|---|---|" + String(repeating: "---|", count: metrics.count) + "\n"
            for d in report.components {
                for method in report.methods {
                    let cells = metrics.map { metric -> String in
                        guard let cell = report.cell(drug: drug, components: d, method: method, metric: metric) else {
                            return report.hasResults(drug: drug, components: d, method: method) ? "undefined" : "failed"
                        }
                        let text = format(cell.mean)
                        if cell.rank == 1 { return "**\(text)**" }
                        return cell.tiedWithBest == true ? "≈ " + text : text
                    }
                    out += "| \(method) | \(d) | " + cells.joined(separator: " | ") + " |\n"
                }
                if let reference = geneSpace.reference {
                    let cells = metrics.map { metric in
                        report.reference(reference, drug: drug, components: d, metric: metric).map { format($0.mean) } ?? "—"
                    }
                    if cells.contains(where: { $0 != "—" }) {
                        out += "| \(reference) | \(d) | " + cells.joined(separator: " | ") + " |\n"
                    }
                }
            }
        }
        return out
    }

    /// Per drug, the mean retained mass of the held-out control cells by group: a row per
    /// method and d (mean over seeds), the generator's truth when the data has it.
    private func retainedMassTables(_ mass: RetainedMass) -> String {
        var out = "\n## Retained mass by \(mass.key) (not ranked)\n\n"
        out += "Each held-out control cell's mass under the map's plan × the number of source cells (1 = kept, < 1 = removed, "
        out += "> 1 = multiplied: unbalanced OT, `tau_a` < 1), averaged over the cells of each \(mass.key) and over seeds. Balanced "
        out += "maps keep every cell (1); \"—\" where a map cannot say (ProgOT). The last row of a drug, where the data records it, "
        out += "is what a perfect map would show: each group's share of the treated cells over its share of the control cells.\n"
        for drug in mass.report.drugs {
            out += "\n### \(drug)\n\n| method | d | " + mass.values.joined(separator: " | ") + " |\n"
            out += "|---|---|" + String(repeating: "---|", count: mass.values.count) + "\n"
            for d in mass.report.components {
                for method in mass.report.methods {
                    let cells = mass.values.map { value in
                        mass.report.cell(drug: drug, components: d, method: method, metric: "retained_mass (\(mass.key)=\(value))")
                            .map { format($0.mean) + " ± " + format($0.std) } ?? "—"
                    }
                    out += "| \(method) | \(d) | " + cells.joined(separator: " | ") + " |\n"
                }
            }
            if let truth = mass.expected[drug] {
                out += "| (built into the data) | | " + mass.values.map { truth[$0].map(format) ?? "—" }.joined(separator: " | ") + " |\n"
            }
            if let plot = mass.plots[drug] { out += "\n![\(drug) retained mass](\(plot))\n" }
            let divergences = mass.values.map { "sinkhorn_divergence (\(mass.key)=\($0))" }
            guard mass.report.cells.contains(where: { $0.drug == drug && divergences.contains($0.metric) }) else { continue }
            out += "\nSinkhorn divergence between the prediction for each \(mass.key)'s held-out control cells and that "
            out += "\(mass.key)'s held-out treated cells (lower is better; best of each d in bold):\n\n"
            out += "| method | d | " + mass.values.joined(separator: " | ") + " |\n"
            out += "|---|---|" + String(repeating: "---|", count: mass.values.count) + "\n"
            for d in mass.report.components {
                for method in mass.report.methods {
                    let cells = divergences.map { metric -> String in
                        guard let cell = mass.report.cell(drug: drug, components: d, method: method, metric: metric) else { return "—" }
                        let text = format(cell.mean) + " ± " + format(cell.std)
                        return cell.rank == 1 ? "**\(text)**" : cell.tiedWithBest == true ? "≈ " + text : text
                    }
                    out += "| \(method) | \(d) | " + cells.joined(separator: " | ") + " |\n"
                }
            }
        }
        return out
    }

    private func format(_ value: Double) -> String { tableNumber(value) }
}

/// A feature and how far a map moves it (in units of the feature's spread).
public struct FeatureShift: Sendable, Equatable {
    public let name: String
    public let value: Double

    public init(name: String, value: Double) {
        self.name = name
        self.value = value
    }
}
