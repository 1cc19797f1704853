/// cell-eval's `full` profile on a real and a predicted dataset (notes/score-metrics-spec.md
/// §1): the DE agreement metrics, then the pseudobulk metrics, under cell-eval's column names
/// and in its column order. `clustering_agreement` (Leiden clustering) is not computed.
public enum CellEval {
    public static let deMetrics: [String] = DEAgreement.cutoffs.map { "overlap_at_\($0.map(String.init) ?? "N")" }
        + DEAgreement.cutoffs.map { "precision_at_\($0.map(String.init) ?? "N")" }
        + ["de_spearman_sig", "de_direction_match", "de_spearman_lfc_sig", "de_sig_genes_recall",
           "de_nsig_counts_real", "de_nsig_counts_pred", "pr_auc", "roc_auc"]
    public static let arrayMetrics: [String] = [
        "pearson_delta", "mse", "mae", "mse_delta", "mae_delta", "discrimination_score_l1", "discrimination_score_l2",
        "discrimination_score_cosine", "pearson_edistance",
    ]

    /// What one comparison gives: the table and both DE results.
    public struct Outcome: Sendable {
        public let table: ScoreTable
        public let realDE: DifferentialExpression
        public let predictedDE: DifferentialExpression

        public init(table: ScoreTable, realDE: DifferentialExpression, predictedDE: DifferentialExpression) {
            self.table = table
            self.realDE = realDE
            self.predictedDE = predictedDE
        }
    }

    /// Scores `predicted` against `real` for every perturbation but `control` (sorted, as
    /// cell-eval orders them). Both hold the same genes and labels (`ScoreInput` checks). The DE
    /// is run only when a metric of `wanted` needs it, and `pearson_edistance` (the costliest:
    /// every pair of control cells) only when wanted.
    public static func score(real: ExpressionData, predicted: ExpressionData, control: String,
                             wanted: Set<String>? = nil) -> Outcome {
        let perturbations = Set(real.labels).subtracting([control]).sorted()
        let needsDE = wanted.map { !$0.isDisjoint(with: deMetrics) } ?? true
        let realDE = DifferentialExpression.compute(real, reference: control, targets: needsDE ? perturbations : [])
        let predictedDE = DifferentialExpression.compute(predicted, reference: control, targets: needsDE ? perturbations : [])
        var values = DEAgreement(real: realDE, predicted: predictedDE).metrics()

        let realGroups = real.groups, predictedGroups = predicted.groups
        let realControl = real.mean(over: realGroups[control] ?? [])
        let predictedControl = predicted.mean(over: predictedGroups[control] ?? [])
        var realMeans: [String: [Double]] = [:], predictedMeans: [String: [Double]] = [:]
        for name in perturbations {
            realMeans[name] = real.mean(over: realGroups[name] ?? [])
            predictedMeans[name] = predicted.mean(over: predictedGroups[name] ?? [])
        }
        func delta(_ mean: [Double], _ control: [Double]) -> [Double] { zip(mean, control).map { $0 - $1 } }
        let realDeltas = perturbations.map { (name: $0, delta: delta(realMeans[$0] ?? [], realControl)) }
        var realEnergy: [Double] = [], predictedEnergy: [Double] = []
        // The control cells' mean distance, once per file (cell-eval precomputes it too).
        let wantsEnergy = wanted?.contains("pearson_edistance") ?? true
        let realControlWithin = wantsEnergy ? ArrayMetrics.withinMeanWithDiagonal(real.values, realGroups[control] ?? []) : 0
        let predictedControlWithin = wantsEnergy
            ? ArrayMetrics.withinMeanWithDiagonal(predicted.values, predictedGroups[control] ?? []) : 0
        for name in perturbations {
            let realMean = realMeans[name] ?? [], predictedMean = predictedMeans[name] ?? []
            let realDelta = delta(realMean, realControl), predictedDelta = delta(predictedMean, predictedControl)
            var row = values[name] ?? [:]
            row["pearson_delta"] = ArrayMetrics.pearsonDelta(predicted: predictedDelta, real: realDelta)
            row["mse"] = ArrayMetrics.meanSquaredError(predictedMean, realMean)
            row["mae"] = ArrayMetrics.meanAbsoluteError(predictedMean, realMean)
            row["mse_delta"] = ArrayMetrics.meanSquaredError(predictedDelta, realDelta)
            row["mae_delta"] = ArrayMetrics.meanAbsoluteError(predictedDelta, realDelta)
            for distance in ArrayMetrics.Distance.allCases {
                row["discrimination_score_\(distance.rawValue)"] = ArrayMetrics.discriminationScore(
                    of: name, predictedDelta: predictedDelta, realDeltas: realDeltas, genes: real.genes, distance: distance)
            }
            values[name] = row
            guard wantsEnergy else { continue }
            realEnergy.append(ArrayMetrics.energyDistanceWithDiagonal(
                real.values, realGroups[name] ?? [], realGroups[control] ?? [], secondWithin: realControlWithin))
            predictedEnergy.append(ArrayMetrics.energyDistanceWithDiagonal(
                predicted.values, predictedGroups[name] ?? [], predictedGroups[control] ?? [], secondWithin: predictedControlWithin))
        }
        if wantsEnergy {
            let energyCorrelation = Correlation.pearson(realEnergy, predictedEnergy)
            for name in perturbations { values[name]?["pearson_edistance"] = energyCorrelation }
        }
        return Outcome(table: ScoreTable(perturbations: perturbations, columns: deMetrics + arrayMetrics, values: values),
                       realDE: realDE, predictedDE: predictedDE)
    }
}
