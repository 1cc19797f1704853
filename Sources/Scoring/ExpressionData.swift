import LinearAlgebra

/// Cells × genes in log1p space with each cell's perturbation label: one of the two files
/// `perturbot score` compares (cell-eval's convention: real and predicted, both holding the
/// control cells).
public struct ExpressionData: Sendable {
    /// cells × genes, log1p-normalised expression.
    public let values: Matrix<Float>
    public let labels: [String]
    public let genes: [String]

    public init(values: Matrix<Float>, labels: [String], genes: [String]) {
        self.values = values
        self.labels = labels
        self.genes = genes
    }

    /// Row indices per label, each in row order.
    public var groups: [String: [Int]] {
        var groups: [String: [Int]] = [:]
        for (row, label) in labels.enumerated() { groups[label, default: []].append(row) }
        return groups
    }

    /// The mean of each gene over `rows` (accumulated in Double).
    public func mean(over rows: [Int]) -> [Double] {
        var sums = [Double](repeating: 0, count: values.cols)
        for row in rows {
            let base = row * values.cols
            for j in 0..<values.cols { sums[j] += Double(values.storage[base + j]) }
        }
        let count = Double(Swift.max(1, rows.count))
        return sums.map { $0 / count }
    }

    /// Gene-major copy: `columns[j]` holds gene j's value in every cell.
    func geneColumns() -> [[Double]] {
        let rows = values.rows, cols = values.cols, storage = values.storage
        return (0..<cols).map { j in (0..<rows).map { Double(storage[$0 * cols + j]) } }
    }
}
