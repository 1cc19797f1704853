import LinearAlgebra

/// cell-eval's data ceiling (`--ceiling`, notes/score-metrics-spec.md §1.6): the real data
/// scored against itself. Each perturbation group of n cells, the control included, is drawn 2n
/// times with replacement; the first n draws become a "real" file and the next n a "predicted"
/// one, and the two are scored as any prediction is. It is a bootstrap self-split, not a
/// Spearman–Brown correction: the scores a prediction as good as a second sample of the real
/// cells would get. cell-eval draws with numpy's PCG64; perturbot draws with `SeededRNG`, so the
/// two agree in distribution, not draw for draw.
public enum CeilingSplit {
    public static func split(_ real: ExpressionData, seed: UInt64) -> (real: ExpressionData, predicted: ExpressionData) {
        var rng = SeededRNG(seed: seed)
        var first: [Int] = [], second: [Int] = []
        // Groups in sorted label order (pandas' groupby order).
        let groups = real.groups
        for label in groups.keys.sorted() {
            let rows = groups[label] ?? []
            let draws = (0..<(2 * rows.count)).map { _ in rows[rng.bounded(rows.count)] }
            first += draws[..<rows.count]
            second += draws[rows.count...]
        }
        func take(_ rows: [Int]) -> ExpressionData {
            ExpressionData(values: real.values.rows(at: rows), labels: rows.map { real.labels[$0] }, genes: real.genes)
        }
        return (take(first), take(second))
    }
}
