import Foundation

/// cell-eval's agreement metrics between the real and the predicted differential expression
/// (notes/score-metrics-spec.md §1.5). As cell-eval does, FDRs and log2 fold changes are
/// rounded to Float before they are thresholded (FDR < 0.05) or ranked (|log2 FC|, descending,
/// ties in gene order).
public struct DEAgreement: Sendable {
    public static let significance: Float = 0.05
    /// The k of `overlap_at_k` and `precision_at_k`; nil is N, every significant gene.
    public static let cutoffs: [Int?] = [nil, 50, 100, 200, 500]

    let real: DifferentialExpression
    let predicted: DifferentialExpression

    public init(real: DifferentialExpression, predicted: DifferentialExpression) {
        self.real = real
        self.predicted = predicted
    }

    /// The significant genes of a table (FDR < `significance`, compared in Float as cell-eval
    /// does), most changed first.
    public static func significantGenes(_ table: DifferentialExpression.Target) -> [Int] {
        let significant = table.fdr.indices.filter { Float(table.fdr[$0]) < significance }
        let magnitude = table.log2FoldChange.map { Swift.abs(Float($0)) }
        return significant.enumerated().sorted { a, b in
            let x = magnitude[a.element], y = magnitude[b.element]
            return x != y ? x > y : a.offset < b.offset
        }.map(\.element)
    }

    /// `overlap_at_k` (`precision: false`) or `precision_at_k`: the shared genes of the two top-k
    /// lists over k, with k cut to the real (overlap) or predicted (precision) list's length; 0
    /// when that length is 0.
    public static func overlap(real: [Int], predicted: [Int], k: Int?, precision: Bool) -> Double {
        let reference = precision ? predicted : real
        let count = Swift.min(k ?? reference.count, reference.count)
        guard count > 0 else { return 0 }
        let shared = Set(real.prefix(count)).intersection(predicted.prefix(count)).count
        return Double(shared) / Double(count)
    }

    /// Per perturbation, metric name → value (nil: not defined for it, an empty cell), in
    /// cell-eval's column order; then the scalar `de_spearman_sig`, repeated on every row.
    public func metrics() -> [String: [String: Double?]] {
        var rows: [String: [String: Double?]] = [:]
        var realCounts: [Double] = [], predictedCounts: [Double] = []
        for realTable in real.targets {
            let name = realTable.target
            guard let predictedTable = predicted.target(name) else { continue }
            let realList = Self.significantGenes(realTable), predictedList = Self.significantGenes(predictedTable)
            var row: [String: Double?] = [:]
            for k in Self.cutoffs {
                let suffix = k.map(String.init) ?? "N"
                row["overlap_at_\(suffix)"] = Self.overlap(real: realList, predicted: predictedList, k: k, precision: false)
                row["precision_at_\(suffix)"] = Self.overlap(real: realList, predicted: predictedList, k: k, precision: true)
            }
            let realLFC = realTable.log2FoldChange.map { Double(Float($0)) }
            let predictedLFC = predictedTable.log2FoldChange.map { Double(Float($0)) }
            if realList.isEmpty {
                row["de_direction_match"] = .some(nil)
                row["de_spearman_lfc_sig"] = .some(nil)
                row["de_sig_genes_recall"] = .some(nil)
            } else {
                let matches = realList.filter { sign(realLFC[$0]) == sign(predictedLFC[$0]) }.count
                row["de_direction_match"] = Double(matches) / Double(realList.count)
                row["de_spearman_lfc_sig"] = Correlation.spearman(realList.map { realLFC[$0] }, realList.map { predictedLFC[$0] })
                row["de_sig_genes_recall"] = Double(Set(realList).intersection(predictedList).count) / Double(realList.count)
                realCounts.append(Double(realList.count))
                predictedCounts.append(Double(predictedList.count))
            }
            row["de_nsig_counts_real"] = Double(realList.count)
            row["de_nsig_counts_pred"] = Double(predictedList.count)
            let labels = realTable.fdr.map { Float($0) < Self.significance }
            let scores = predictedTable.fdr.map { -Foundation.log10(Swift.min(1, Swift.max(Float(1e-10), Float($0)))) }
            row["pr_auc"] = Ranking.averagePrecision(labels: labels, scores: scores)
            row["roc_auc"] = Ranking.rocAUC(labels: labels, scores: scores)
            rows[name] = row
        }
        // Over the perturbations with a real significant gene; 1 when there is none.
        let spearmanCounts = realCounts.isEmpty ? 1 : Correlation.spearman(realCounts, predictedCounts)
        for name in rows.keys { rows[name]?["de_spearman_sig"] = spearmanCounts }
        return rows
    }

    private func sign(_ value: Double) -> Int { value > 0 ? 1 : (value < 0 ? -1 : 0) }
}

/// Ranking summaries of scores against binary labels, as scikit-learn computes them.
enum Ranking {
    /// `average_precision_score`: Σ (Rₙ − Rₙ₋₁)·Pₙ over the distinct scores, highest first;
    /// NaN without positives or without negatives.
    static func averagePrecision(labels: [Bool], scores: [Float]) -> Double {
        let positives = labels.filter { $0 }.count
        guard positives > 0, positives < labels.count else { return .nan }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var truePositives = 0, seen = 0, previousRecall = 0.0, total = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end < order.count && scores[order[end]] == scores[order[start]] {
                if labels[order[end]] { truePositives += 1 }
                end += 1
            }
            seen = end
            let recall = Double(truePositives) / Double(positives)
            let precision = Double(truePositives) / Double(seen)
            total += (recall - previousRecall) * precision
            previousRecall = recall
            start = end
        }
        return total
    }

    /// The area under the ROC curve: P(score₊ > score₋) + ½·P(score₊ = score₋); NaN without
    /// positives or without negatives.
    static func rocAUC(labels: [Bool], scores: [Float]) -> Double {
        let positives = labels.filter { $0 }.count, negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return .nan }
        let ranks = Correlation.averageRanks(scores.map(Double.init))
        let positiveRankSum = zip(ranks, labels).filter { $0.1 }.reduce(0) { $0 + $1.0 }
        let u = positiveRankSum - Double(positives) * Double(positives + 1) / 2
        return u / (Double(positives) * Double(negatives))
    }
}
