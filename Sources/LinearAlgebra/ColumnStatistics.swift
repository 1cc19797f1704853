extension Matrix {
    /// Mean of each column, accumulated in `Double` so Float data loses no precision to
    /// long sums. An empty matrix has means of 0.
    public func columnMeans() -> [Scalar] {
        guard rows > 0 else { return [Scalar](repeating: 0, count: cols) }
        var sums = [Double](repeating: 0, count: cols)
        storage.withUnsafeBufferPointer { values in
            sums.withUnsafeMutableBufferPointer { sums in
                for i in 0..<rows {
                    let base = i * cols
                    for j in 0..<cols { sums[j] += Double(values[base + j]) }
                }
            }
        }
        return sums.map { Scalar($0 / Double(rows)) }
    }

    /// Each row minus `means` (one value per column).
    public func subtractingFromRows(_ means: [Scalar]) -> Matrix {
        precondition(means.count == cols, "\(means.count) means for \(cols) columns")
        var result = self
        result.storage.withUnsafeMutableBufferPointer { values in
            means.withUnsafeBufferPointer { means in
                for i in 0..<rows {
                    let base = i * cols
                    for j in 0..<cols { values[base + j] -= means[j] }
                }
            }
        }
        return result
    }

    /// The column-centred matrix and the means that were removed.
    public func centeredColumns() -> (centered: Matrix, means: [Scalar]) {
        let means = columnMeans()
        return (subtractingFromRows(means), means)
    }
}
