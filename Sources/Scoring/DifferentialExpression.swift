import Foundation
import LinearAlgebra

/// Differential expression of each perturbation against the control cells, as pdex's
/// reference mode computes it for cell-eval (notes/score-metrics-spec.md §2): per gene a
/// Mann–Whitney U test of the perturbation's cells against the control's, Benjamini–Hochberg
/// within each perturbation, and the log2 fold change of pseudobulks in count space,
/// expm1(mean of log1p), with no pseudocount (0/0 gives 0, a one-sided 0 gives ±∞).
public struct DifferentialExpression: Sendable {
    /// One perturbation's table, genes in the data's order.
    public struct Target: Sendable {
        public let target: String
        public let targetMean: [Double]
        public let referenceMean: [Double]
        public let targetCells: Int
        public let referenceCells: Int
        public let log2FoldChange: [Double]
        public let percentChange: [Double]
        public let pValue: [Double]
        public let statistic: [Double]
        public let fdr: [Double]
    }

    public let genes: [String]
    /// In the order of `targets` given to `compute`.
    public let targets: [Target]

    public func target(_ name: String) -> Target? { targets.first { $0.target == name } }

    /// The tables of `targets` (labels of `data`) against the cells labelled `reference`.
    public static func compute(_ data: ExpressionData, reference: String, targets names: [String]) -> DifferentialExpression {
        guard !names.isEmpty else { return DifferentialExpression(genes: data.genes, targets: []) }
        let groups = data.groups
        let referenceRows = groups[reference] ?? []
        let columns = data.geneColumns()
        let genes = columns.count
        // Each gene's control values sorted once; each perturbation's are sorted and merged in.
        let referenceSorted = columns.map { column in referenceRows.map { column[$0] }.sorted() }
        let referenceBulk = data.mean(over: referenceRows).map(Foundation.expm1)
        var tables: [Target] = []
        for name in names {
            let rows = groups[name] ?? []
            let bulk = data.mean(over: rows).map(Foundation.expm1)
            var pValues = [Double](repeating: 1, count: genes), statistics = [Double](repeating: 0, count: genes)
            pValues.withUnsafeMutableBufferPointer { pBuffer in
                statistics.withUnsafeMutableBufferPointer { uBuffer in
                    let p = UncheckedSendable(pBuffer), u = UncheckedSendable(uBuffer)
                    parallelForRanges(count: genes, minimumBlock: 32, maxBlocks: 16) { range in
                        for gene in range {
                            let column = columns[gene]
                            let result = MannWhitneyU.test(sortedFirst: rows.map { column[$0] }.sorted(),
                                                           sortedSecond: referenceSorted[gene])
                            p.value[gene] = result.pValue
                            u.value[gene] = result.statistic
                        }
                    }
                }
            }
            let ratios = zip(bulk, referenceBulk).map { target, reference -> Double in
                let value = Foundation.log2(target / reference)
                return value.isNaN ? 0 : value
            }
            let percent = zip(bulk, referenceBulk).map { target, reference -> Double in
                let value = (target - reference) / reference
                return value.isNaN ? 0 : value
            }
            tables.append(Target(target: name, targetMean: bulk, referenceMean: referenceBulk, targetCells: rows.count,
                                 referenceCells: referenceRows.count, log2FoldChange: ratios, percentChange: percent,
                                 pValue: pValues, statistic: statistics, fdr: BenjaminiHochberg.adjust(pValues)))
        }
        return DifferentialExpression(genes: data.genes, targets: tables)
    }

    /// pdex's CSV: `target, feature, target_mean, ref_mean, target_membership, ref_membership,
    /// fold_change, log2_fold_change, percent_change, p_value, statistic, fdr`.
    public func csv() -> String {
        var lines = ["target,feature,target_mean,ref_mean,target_membership,ref_membership,fold_change,log2_fold_change,percent_change,p_value,statistic,fdr"]
        for table in targets {
            for (j, gene) in genes.enumerated() {
                let fields: [String] = [
                    CSVField.quoted(table.target), CSVField.quoted(gene), CSVField.number(table.targetMean[j]),
                    CSVField.number(table.referenceMean[j]), String(table.targetCells), String(table.referenceCells),
                    CSVField.number(table.log2FoldChange[j]), CSVField.number(table.log2FoldChange[j]),
                    CSVField.number(table.percentChange[j]), CSVField.number(table.pValue[j]),
                    CSVField.number(table.statistic[j]), CSVField.number(table.fdr[j]),
                ]
                lines.append(fields.joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// CSV fields as the score files write them.
enum CSVField {
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return "\(value)"
    }

    static func quoted(_ text: String) -> String {
        text.contains(",") || text.contains("\"") || text.contains("\n")
            ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}
