import LinearAlgebra
import Scoring

/// Scores predicted cells against real ones in gene space: cell-eval's `full` metrics
/// (`CellEval`), and per perturbation pertpy's energy distance between the real and the
/// predicted cells (`edistance`) and the pipeline's `sinkhorn_divergence` and `mmd` between them.
public enum GeneSpaceScore {
    public static let extraMetrics = ["edistance", "sinkhorn_divergence", "mmd"]

    /// Every metric `perturbot score` can report, in its column order.
    public static var metrics: [String] { CellEval.deMetrics + CellEval.arrayMetrics + extraMetrics }

    /// Computes what `wanted` (nil: every metric) needs; the table has every column, those not
    /// computed undefined.
    public static func run(real: ExpressionData, predicted: ExpressionData, control: String,
                           wanted: Set<String>? = nil) throws -> CellEval.Outcome {
        let outcome = CellEval.score(real: real, predicted: predicted, control: control, wanted: wanted)
        func wants(_ metric: String) -> Bool { wanted?.contains(metric) ?? true }
        var values = outcome.table.values
        let realGroups = real.groups, predictedGroups = predicted.groups
        for name in outcome.table.perturbations {
            let realCells = real.values.rows(at: realGroups[name] ?? [])
            let predictedCells = predicted.values.rows(at: predictedGroups[name] ?? [])
            var row = values[name] ?? [:]
            if wants("edistance") { row["edistance"] = EnergyDistance.between(realCells, predictedCells) }
            if !wants("sinkhorn_divergence") {
                row["sinkhorn_divergence"] = .some(nil)
            } else if realCells.rows >= 2 {
                let divergence = try Metrics.sinkhornDivergence(
                    predictedCells, realCells, epsilon: try Metrics.evaluationEpsilon(testTreated: realCells))
                row["sinkhorn_divergence"] = divergence.value
            } else {
                row["sinkhorn_divergence"] = .some(nil)
            }
            if wants("mmd") { row["mmd"] = Metrics.mmd(predictedCells, realCells) }
            values[name] = row
        }
        return CellEval.Outcome(
            table: ScoreTable(perturbations: outcome.table.perturbations, columns: metrics, values: values),
            realDE: outcome.realDE, predictedDE: outcome.predictedDE)
    }
}
