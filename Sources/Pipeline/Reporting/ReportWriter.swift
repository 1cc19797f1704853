import AnnData
import Crypto
import Foundation
import Reports
import Stages

/// Writes a run's `results.csv`, `table.csv` and `report.md` into the spec's report folder, each
/// through a temporary file renamed into place.
public enum ReportWriter {
    /// The report folder: relative `report.out` paths start at the pipeline file's folder.
    public static func folder(_ spec: PipelineSpec, pipelineFile: String) -> URL {
        let out = spec.report.out
        if out.hasPrefix("/") { return URL(fileURLWithPath: out) }
        return URL(fileURLWithPath: pipelineFile).deletingLastPathComponent().appendingPathComponent(out).standardizedFileURL
    }

    /// Conditions up to which report.md has each one's own tables and figures; beyond, a
    /// screen's summary and table.csv.
    public static let perConditionLimit = 50

    /// The names of the descriptive (unranked) columns in results.csv.
    public static let displacementDimensionality = "displacement_dimensionality"
    public static let displacementDimensionalityP75 = "displacement_dimensionality_p75"
    public static let movedPrecision = "moved_precision"
    public static let movedRecall = "moved_recall"
    /// The fit time, a descriptive table of report.md (results.csv has it in every row).
    public static let fitSeconds = "fit_seconds"

    /// The descriptive values of one evaluation, those it has.
    static func descriptiveValues(_ evaluation: EvaluationRecord) -> [String: Double] {
        var values = [displacementDimensionality: evaluation.displacementDimensionality]
        values[displacementDimensionalityP75] = evaluation.displacementDimensionalityP75
        values[movedPrecision] = evaluation.movedPrecision
        values[movedRecall] = evaluation.movedRecall
        return values
    }

    /// One row per metric, the descriptive values and each solver diagnostic of every
    /// evaluation (results.csv's long format).
    public static func rows(_ evaluations: [EvaluationRecord]) -> [ResultRow] {
        evaluations.flatMap { evaluation in
            let halves = Dictionary(uniqueKeysWithValues: (evaluation.halfSampleMetrics ?? [:]).map { ($0.key + ResultsReport.halfSampleSuffix, $0.value) })
            let values = evaluation.metrics
                .merging(halves) { a, _ in a }
                .merging(descriptiveValues(evaluation)) { a, _ in a }
                .merging(evaluation.diagnostics) { a, _ in a }
            return values.keys.sorted().map { metric in
                ResultRow(drug: evaluation.drug, components: evaluation.components, method: evaluation.method,
                          seed: evaluation.seed, metric: metric, value: values[metric] ?? .nan,
                          converged: evaluation.converged, seconds: evaluation.seconds)
            }
        }
    }

    /// The noise ceiling and the unmoved control as rows of the pseudo-methods
    /// `ResultsReport.noiseCeiling` and `ResultsReport.unmoved` (results.csv keeps them; the rank
    /// tables, which list the pipeline's methods, do not rank them).
    static func referenceRows(_ references: [Ceiling.Record]) -> [ResultRow] {
        references.flatMap { record in
            [(ResultsReport.noiseCeiling, record.ceiling), (ResultsReport.unmoved, record.unmoved)].flatMap { method, values in
                values.keys.sorted().map { metric in
                    ResultRow(drug: record.drug, components: record.components, method: method, seed: record.seed,
                              metric: metric + ResultsReport.halfSampleSuffix,
                              value: values[metric] ?? .nan, converged: record.converged, seconds: 0)
                }
            }
        }
    }

    /// The suffix of a gene-space metric's name in results.csv and the report (the pipeline's
    /// `sinkhorn_divergence` and `mmd` exist in both spaces).
    public static let geneSpaceSuffix = " (genes)"
    /// The pseudo-method of the real held-out cells' own program recall.
    public static let realCells = "(real cells)"

    /// One row per drug and gene-space metric of every gene_score record (undefined values,
    /// cell-eval's NaN, are left out), with the convergence and fit time of the drug's
    /// evaluation; and the real cells' program recall as rows of `realCells`.
    static func geneRows(_ records: [GeneScore.Record], evaluations: [EvaluationRecord]) -> [ResultRow] {
        var fits: [String: EvaluationRecord] = [:]
        for evaluation in evaluations {
            fits["\(evaluation.drug)/\(evaluation.components)/\(evaluation.seed)/\(evaluation.method)"] = evaluation
        }
        // Every method's task records the real cells' recall; results.csv keeps it once.
        var referenced: Set<String> = []
        return records.flatMap { record in
            record.metrics.keys.sorted().flatMap { drug -> [ResultRow] in
                let fit = fits["\(drug)/\(record.components)/\(record.seed)/\(record.method)"]
                let values = record.metrics[drug] ?? [:]
                var rows = values.keys.sorted().compactMap { metric -> ResultRow? in
                    guard let value = values[metric] ?? nil else { return nil }
                    return ResultRow(drug: drug, components: record.components, method: record.method, seed: record.seed,
                                     metric: metric + geneSpaceSuffix, value: value, converged: fit?.converged ?? true,
                                     seconds: fit?.seconds ?? 0)
                }
                if let recall = record.realProgramRecall?[drug],
                   referenced.insert("\(drug)/\(record.components)/\(record.seed)").inserted {
                    rows.append(ResultRow(drug: drug, components: record.components, method: realCells, seed: record.seed,
                                          metric: GeneScore.programRecall + geneSpaceSuffix, value: recall, converged: true, seconds: 0))
                }
                return rows
            }
        }
    }

    /// The mean retained mass of the test control cells per value of `report.mass_by`, as rows of
    /// the metric `retained_mass (<key>=<value>)`, one per drug, d, seed and method; the values in
    /// order of first appearance; and, when the data file records it (`perturbot generate 4i-like`
    /// or `scrna-like` with `--death/--growth`), the retained mass a perfect map would show.
    static func massRows(spec: PipelineSpec, pipelineFile: String, plan: Plan, cache: TaskCache,
                         evaluations: [EvaluationRecord]) throws -> MassTable? {
        guard let key = spec.report.massBy?.value else { return nil }
        let dataPath = DataCheck.resolvedDataPath(spec, pipelineFile: pipelineFile)
        let data = try AnnDataReader.readAnnotations(dataPath)
        guard let labels = try data.obsLabels(key) else {
            throw PipelineError.plan("\(dataPath): obs column '\(key)' (report.mass_by) is not categorical or text")
        }
        var values: [String] = []
        for label in labels.compactMap({ $0 }) where !values.contains(label) { values.append(label) }
        if let order = (try? data.obsColumn(key)).flatMap({ column -> [String]? in
            if case .categorical(let categorical) = column { return categorical.categories }
            return nil
        }) { values = order.filter(values.contains) }
        var rows: [ResultRow] = []
        for evaluation in evaluations {
            guard let masses = evaluation.retainedMass,
                  let task = plan.task("split/\(evaluation.drug)/seed\(evaluation.seed)"),
                  let split = try? JSONDecoder().decode(DrugSplit.self, from: cache.read(task.key, file: "split.json")),
                  split.testControl.count == masses.count else { continue }
            var sums: [String: (total: Double, count: Int)] = [:]
            for (cell, mass) in zip(split.testControl, masses) {
                guard let label = labels[cell] else { continue }
                sums[label, default: (0, 0)].total += mass
                sums[label, default: (0, 0)].count += 1
            }
            for value in values {
                guard let sum = sums[value], sum.count > 0 else { continue }
                rows.append(ResultRow(drug: evaluation.drug, components: evaluation.components, method: evaluation.method,
                                      seed: evaluation.seed, metric: MassTable.metric(key: key, value: value),
                                      value: sum.total / Double(sum.count), converged: evaluation.converged, seconds: evaluation.seconds))
            }
        }
        for evaluation in evaluations {
            for (value, divergence) in evaluation.groupDivergence ?? [:] where divergence.isFinite {
                rows.append(ResultRow(drug: evaluation.drug, components: evaluation.components, method: evaluation.method,
                                      seed: evaluation.seed, metric: MassTable.divergenceMetric(key: key, value: value),
                                      value: divergence, converged: evaluation.converged, seconds: evaluation.seconds))
            }
        }
        var expected: [String: [String: Double]] = [:]
        // The generators' truth: uns perturbot_demo/mass (4i-like) or perturbot_scrna_like/mass.
        let uns = try AnnDataReader.readUns(dataPath)
        let records = ["perturbot_demo", "perturbot_scrna_like"].compactMap { uns[$0] }
        for case .dictionary(let record) in records {
            guard case .dictionary(let mass)? = record["mass"] else { continue }
            for (drug, entry) in mass {
                guard case .dictionary(let states) = entry else { continue }
                for (state, truth) in states {
                    if case .dictionary(let fields) = truth, case .double(let value)? = fields["expected_retained_mass"] {
                        expected[drug, default: [:]][state] = value
                    }
                }
            }
        }
        return MassTable(key: key, values: values, rows: rows, expected: expected)
    }

    /// Returns the folder written.
    @discardableResult
    public static func write(spec: PipelineSpec, pipelineFile: String, plan: Plan, cache: TaskCache,
                             evaluations: [EvaluationRecord], references: [Ceiling.Record] = [],
                             geneScores: [GeneScore.Record] = [],
                             failures: [(task: String, message: String)], wallSeconds: Double?) throws -> URL {
        let geneRows = geneRows(geneScores, evaluations: evaluations)
        let mass = try massRows(spec: spec, pipelineFile: pipelineFile, plan: plan, cache: cache, evaluations: evaluations)
        let allRows = rows(evaluations) + referenceRows(references) + geneRows + (mass?.rows ?? [])
        let geneMetrics = spec.geneMetrics ?? []
        let geneDE = geneMetrics.filter(GeneScore.differentialExpressionMetrics.contains).map { $0 + geneSpaceSuffix }
        let geneRanked = geneMetrics.filter { !GeneScore.differentialExpressionMetrics.contains($0) }.map { $0 + geneSpaceSuffix }
        let higherIsBetter = Set(GeneScore.higherIsBetter.map { $0 + geneSpaceSuffix })
        let unranked = Set(GeneScore.unranked.map { $0 + geneSpaceSuffix })
        func results(_ metrics: [String]) -> ResultsReport {
            ResultsReport(rows: allRows, drugs: plan.drugs, components: plan.components,
                          methods: spec.methods.map(\.name), metrics: metrics, higherIsBetter: higherIsBetter, unranked: unranked)
        }
        var report = results(spec.evaluate.metrics.map(\.rawValue) + geneRanked + geneDE)
        report.contextColumn = spec.data.contextKey != nil
        let present = Set(evaluations.flatMap { descriptiveValues($0).keys })
        let fitRows = evaluations.map { evaluation in
            ResultRow(drug: evaluation.drug, components: evaluation.components, method: evaluation.method, seed: evaluation.seed,
                      metric: fitSeconds, value: evaluation.seconds, converged: evaluation.converged, seconds: evaluation.seconds)
        }
        let descriptive = ResultsReport(
            rows: allRows + fitRows, drugs: plan.drugs, components: plan.components, methods: spec.methods.map(\.name),
            metrics: [displacementDimensionality, displacementDimensionalityP75, movedPrecision, movedRecall].filter(present.contains)
                + [fitSeconds])
        let diagnostics = results(Set(evaluations.flatMap(\.diagnostics.keys)).sorted())
        var solverRuns = SolverRunsReport(rows: runRows(evaluations), methods: spec.methods.map(\.name))
        solverRuns.contextColumn = spec.data.contextKey != nil
        let digest = (try? Data(contentsOf: URL(fileURLWithPath: pipelineFile)))
            .map(TaskCache.sha256) ?? "unknown"
        let metadata = MarkdownReport.Metadata(
            pipelineName: spec.name, pipelineDigest: digest, version: perturbotVersion,
            date: ISO8601DateFormatter().string(from: Date()), wallSeconds: wallSeconds,
            featureSpace: spec.pca == .disabled,
            splitNote: spec.split.holdout.map { holdout in
                "The test cells are those with obs '\(holdout.key.value)' in {\(holdout.values.map(\.value).joined(separator: ", "))}; "
                    + "every map was fitted on the other cells only (CellOT's `ood` mode), so these tables measure how a map "
                    + "carries over to a population it never saw."
            })
        let folder = folder(spec, pipelineFile: pipelineFile)
        var files: [(String, String)] = []
        if spec.report.formats.contains(.csv) {
            files.append(("results.csv", report.resultsCSV()))
            files.append(("table.csv", report.tableCSV()))
            if !solverRuns.rows.isEmpty { files.append(("steps.csv", solverRuns.csv())) }
        }
        // A screen: a summary first; beyond `perConditionLimit` conditions no per-condition
        // Markdown tables or figures (table.csv has every condition).
        let hasContexts = spec.data.contextKey != nil
        let perCondition = plan.drugs.count <= perConditionLimit
        let screen = hasContexts || !perCondition
            ? ScreenSummary(report: report, conditions: plan.drugs.map {
                ScreenSummary.Condition(id: $0, hasContext: hasContexts, columns: spec.data.conditionKeys.count)
            }) : nil
        let formats = spec.report.formats
        let figures = (formats.contains(.svg) || formats.contains(.html)) && perCondition ? plots(report, evaluations, spec: spec) : []
        var plotFiles = formats.contains(.svg) ? figures : []
        if let screen, spec.report.formats.contains(.svg) { plotFiles += screen.figures().map { ($0.name, $0.svg) } }
        let massReport = mass.map { mass in
            ResultsReport(rows: mass.rows, drugs: plan.drugs, components: plan.components, methods: spec.methods.map(\.name),
                          metrics: mass.values.map { MassTable.metric(key: mass.key, value: $0) }
                              + mass.values.map { MassTable.divergenceMetric(key: mass.key, value: $0) })
        }
        var massPlots: [String: String] = [:]
        if perCondition, let mass, let massReport, spec.report.formats.contains(.svg), let d = plan.components.first {
            for drug in plan.drugs where mass.rows.contains(where: { $0.drug == drug }) {
                let name = "\(plotName(drug))_retained_mass.svg"
                plotFiles.append((name, SVGCharts.groupedBars(
                    title: "\(drug): mean retained mass by \(mass.key), d = \(d)", groups: spec.methods.map(\.name), series: mass.values
                ) { method, index in
                    massReport.cell(drug: drug, components: d, method: method, metric: MassTable.metric(key: mass.key, value: mass.values[index]))
                        .map { ($0.mean, $0.std) }
                }))
                massPlots[drug] = name
            }
        }
        files += plotFiles
        if spec.report.formats.contains(.markdown) {
            var byDrug: [String: [String]] = [:]
            let written = Set(plotFiles.map(\.0))
            for drug in plan.drugs {
                let own = report.metrics.prefix(1).map { "\(plotName(drug))_\(plotName($0)).svg" } + ["\(plotName(drug))_scatter.svg"]
                byDrug[drug] = own.filter(written.contains)
            }
            var markdown = MarkdownReport(report: report, metadata: metadata, failures: failures, plots: byDrug,
                                                      descriptive: descriptive,
                                                      descriptiveDescriptions: descriptions(movedThreshold: spec.evaluate.movedThreshold),
                                                      movedFeatures: movedFeatures(evaluations),
                                                      diagnostics: diagnostics, solverRuns: solverRuns,
                                                      stochasticMethods: spec.methods.filter {
                                                          $0.method.stochastic
                                                      }.map(\.name),
                                                      retainedMass: mass.flatMap { mass in massReport.map {
                                                          MarkdownReport.RetainedMass(key: mass.key, values: mass.values, report: $0,
                                                                                      expected: mass.expected, plots: massPlots)
                                                      } },
                                                      geneSpace: spec.geneMetrics == nil ? nil : MarkdownReport.GeneSpace(
                                                          note: geneSpaceNote(spec), differentialExpressionMetrics: geneDE,
                                                          reference: geneDE.contains(GeneScore.programRecall + geneSpaceSuffix) ? realCells : nil))
            markdown.screenSummary = screen
            markdown.screenFigures = spec.report.formats.contains(.svg)
            markdown.perConditionTables = perCondition
            files.append(("report.md", markdown.render()))
        }
        if formats.contains(.html) {
            var html = HTMLReport(report: report, metadata: metadata, failures: failures)
            for drug in plan.drugs {
                html.figures[drug] = figures.first { $0.0 == "\(plotName(drug))_scatter.svg" }?.1
            }
            html.movedFeatures = perCondition ? movedFeatures(evaluations) : [:]
            if perCondition, spec.pca != .disabled || spec.data.featureSets.count == 1 {
                html.trueFeatures = trueMovedFeatures(dataPath: DataCheck.resolvedDataPath(spec, pipelineFile: pipelineFile))
            }
            html.solverRuns = solverRuns
            html.screenSummary = screen
            if spec.report.savePredictions {
                let fitted = Set(evaluations.map(\.drug))
                html.predictionFiles = plan.drugs.filter(fitted.contains).flatMap { drug in
                    plan.components.map { PredictionWriter.folderName + "/" + PredictionWriter.fileName(drug: drug, components: $0) }
                }
            }
            files.append(("report.html", html.render()))
        }
        return try ReportFolder.write(files.map { ($0.0, Data($0.1.utf8)) }, to: folder) { temporary in
            guard spec.report.savePredictions else { return [] }
            try PredictionWriter.write(spec: spec, pipelineFile: pipelineFile, plan: plan, cache: cache, folder: temporary)
            return [PredictionWriter.folderName]
        }
    }

    /// Per drug, the features a synthetic data file's generator moves, where it records them:
    /// uns `perturbot_demo/moved_features/<drug>` (4i-like) or the up and down genes of
    /// `perturbot_scrna_like/programs/<drug>`; empty for other data.
    static func trueMovedFeatures(dataPath: String) -> [String: Set<String>] {
        guard let uns = try? AnnDataReader.readUns(dataPath) else { return [:] }
        func names(_ value: UnsValue?) -> [String] {
            guard case .string(let list)? = value else { return [] }
            return list.split(separator: ",").map(String.init)
        }
        var truth: [String: Set<String>] = [:]
        if case .dictionary(let record)? = uns["perturbot_demo"], case .dictionary(let moved)? = record["moved_features"] {
            for (drug, value) in moved { truth[drug] = Set(names(value)) }
        }
        if case .dictionary(let record)? = uns["perturbot_scrna_like"], case .dictionary(let programs)? = record["programs"] {
            for (drug, value) in programs {
                guard case .dictionary(let program) = value else { continue }
                truth[drug] = Set(names(program["up"]) + names(program["down"]))
            }
        }
        return truth
    }

    /// How the gene-space tables were made, for the report's header.
    static func geneSpaceNote(_ spec: PipelineSpec) -> String {
        var note = "All drugs of one method, d and seed are scored together, as `perturbot score` scores a real and a predicted "
            + "file: the real file holds the held-out control cells and each drug's held-out treated cells; the predicted file holds "
            + "one predicted cell per held-out control cell and its own control cells. "
        if spec.pca == .disabled {
            note += "The predictions are in feature space already (pca: none): they are T(x), and the control cells are as loaded. "
        } else {
            switch spec.geneDecode {
            case .displacement:
                note += "A prediction is its control cell as loaded, moved by the map's displacement taken back from PCA to the "
                    + "genes, x + (T(x) − x)·V (evaluate.decode: displacement), and the predicted file's control cells are the "
                    + "held-out control cells as loaded: the identity predicts no change, and a predicted cell keeps the gene-level "
                    + "variation of its control cell. "
            case .reconstruction:
                note += "A prediction is decoded from PCA, T(x)·V + mean (evaluate.decode: reconstruction), and the predicted "
                    + "file's control cells are the held-out control cells passed through the same PCA and back, so that the "
                    + "identity predicts no change; rank-d cells vary less per gene than real ones, so small shifts test significant. "
            }
        }
        return note + "Metrics whose names end in \"\(geneSpaceSuffix)\"; a value cell-eval leaves undefined (NaN, e.g. the "
            + "correlation of the identity's zero change) is left out of the mean over seeds and shown as \"undefined\"."
    }

    /// What each descriptive table shows, with the pipeline's rule for a moved feature.
    static func descriptions(movedThreshold: Double?) -> [String: String] {
        let rule = movedThreshold.map { "when |T(x) − x| exceeds \(String(format: "%g", $0)) in its own units (evaluate.moved_threshold)" }
            ?? "when it moves by more than 0.1 × its standard deviation over the test control cells"
        return [
            displacementDimensionality: "Mean number of features each method moves per test control cell: the displacement T(x) − x "
                + "taken back to feature space, counting feature j \(rule).",
            displacementDimensionalityP75: "75th percentile over the test control cells of the number of features moved (same count).",
            movedPrecision: "Of the features the map moves (same count), the fraction the true map moves too, pooled over the "
                + "test control cells (data.true_map; a figure the sparsity paper does not report).",
            movedRecall: "Of the features the true map moves (same count), the fraction the map moves too, pooled over the "
                + "test control cells.",
            fitSeconds: "Fit time of the map in seconds (how long its solve task took on the machine that ran it).",
        ]
    }

    /// Every Sinkhorn run of every evaluated fit, in the order of the evaluations.
    static func runRows(_ evaluations: [EvaluationRecord]) -> [SolverRunRow] {
        evaluations.flatMap { evaluation in
            evaluation.solverSteps.map { step in
                SolverRunRow(drug: evaluation.drug, components: evaluation.components, method: evaluation.method,
                             seed: evaluation.seed, role: step.role.rawValue, index: step.index, epsilon: step.epsilon,
                             alpha: step.alpha, scale: step.scale, heldOutError: step.heldOutError,
                             threshold: step.threshold, iterations: step.iterations, converged: step.converged,
                             marginalError: step.marginalError)
            }
        }
    }

    /// Per drug, method and d_PCA, the five features with the largest relative shift averaged
    /// over seeds (a feature outside one seed's top five counts 0 for that seed); features that
    /// do not move at all (the identity's) are left out.
    static func movedFeatures(_ evaluations: [EvaluationRecord]) -> [String: [String: [Int: [FeatureShift]]]] {
        var grouped: [String: [String: [Int: [EvaluationRecord]]]] = [:]
        for evaluation in evaluations {
            grouped[evaluation.drug, default: [:]][evaluation.method, default: [:]][evaluation.components, default: []].append(evaluation)
        }
        return grouped.mapValues { byMethod in
            byMethod.mapValues { byComponents in
                byComponents.mapValues { records in
                    var totals: [String: Double] = [:]
                    for record in records {
                        for feature in record.mostMovedFeatures { totals[feature.name, default: 0] += feature.relativeShift }
                    }
                    return totals.filter { $0.value > 0 }
                        .map { FeatureShift(name: $0.key, value: $0.value / Double(records.count)) }
                        .sorted { ($0.value, $1.name) > ($1.value, $0.name) }
                        .prefix(5).map { $0 }
                }
            }
        }
    }

    /// Per drug: bars of the first metric (methods × d_PCA), and the first seed's test cells and
    /// predictions at the smallest d_PCA in the plane of the first two components.
    static func plots(_ report: ResultsReport, _ evaluations: [EvaluationRecord], spec: PipelineSpec) -> [(String, String)] {
        guard let metric = report.metrics.first else { return [] }
        var files: [(String, String)] = []
        // A drug whose every task failed has nothing to draw: the report's Failures section says why.
        for drug in report.drugs where evaluations.contains(where: { $0.drug == drug }) {
            let bars = SVGCharts.bars(title: drug, metric: metric, methods: report.methods, components: report.components) { method, d in
                report.cell(drug: drug, components: d, method: method, metric: metric).map { ($0.mean, $0.std) }
            }
            files.append(("\(plotName(drug))_\(plotName(metric)).svg", bars))
            guard let d = report.components.first, let seed = spec.split.seeds.first else { continue }
            let shown = evaluations.filter { $0.drug == drug && $0.components == d && $0.seed == seed }
            guard let first = shown.first else { continue }
            files.append(("\(plotName(drug))_scatter.svg", smallMultiples(drug: drug, first: first, shown: shown, report: report, spec: spec)))
        }
        return files
    }

    /// The first seed's held-out cells at the smallest d: the test control cells, then each
    /// method's prediction for them, each panel over the test treated cells.
    static func smallMultiples(drug: String, first: EvaluationRecord, shown: [EvaluationRecord], report: ResultsReport,
                               spec: PipelineSpec) -> String {
        var panels: [(name: String, points: [[Float]])] = [("test control (unmoved)", first.preview.control)]
        for method in report.methods {
            if let evaluation = shown.first(where: { $0.method == method }) { panels.append((method, evaluation.preview.predicted)) }
        }
        let axis = spec.pca == .disabled ? "coordinate" : "PC"
        return SVGCharts.smallMultiples(title: "\(drug): d = \(first.components), seed \(first.seed)",
                                        reference: ("test treated", first.preview.treated), panels: panels,
                                        axes: ("\(axis) 1", "\(axis) 2"), identifier: "density-\(plotName(drug))")
    }

    /// A drug name made safe for a file name.
    static func plotName(_ drug: String) -> String {
        String(drug.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }
}

/// The retained mass of the held-out control cells by group (`report.mass_by`).
struct MassTable {
    let key: String
    /// The groups, in category order.
    let values: [String]
    let rows: [ResultRow]
    /// Drug → group → the retained mass the data's generator built in.
    let expected: [String: [String: Double]]

    static func metric(key: String, value: String) -> String { "retained_mass (\(key)=\(value))" }
    static func divergenceMetric(key: String, value: String) -> String { "sinkhorn_divergence (\(key)=\(value))" }
}

/// The version reports record.
public let perturbotVersion = "0.1.0"
