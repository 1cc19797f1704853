import LinearAlgebra

/// The energy distance of two point sets with Euclidean (not squared) distances, as pertpy's
/// `Distance("edistance")` (≥ 1.1): E = 2·B − W_X − W_Y with B the mean cross distance and W the
/// mean distance between distinct points of one set (0 for a single point).
public enum EnergyDistance {
    public static func between(_ x: Matrix<Float>, _ y: Matrix<Float>) -> Double {
        let stacked = Matrix<Float>(rows: x.rows + y.rows, cols: x.cols) { i, j in i < x.rows ? x[i, j] : y[i - x.rows, j] }
        let first = Array(0..<x.rows), second = Array(x.rows..<(x.rows + y.rows))
        return 2 * meanDistance(stacked, first, second) - withinMean(stacked, first) - withinMean(stacked, second)
    }

    /// Mean over distinct pairs of `rows` (0 with fewer than two).
    static func withinMean(_ values: Matrix<Float>, _ rows: [Int]) -> Double {
        guard rows.count >= 2 else { return 0 }
        let n = Double(rows.count)
        return meanDistance(values, rows, rows) * n * n / (n * (n - 1))
    }

    /// Mean of ‖a − b‖ over all a in `first`, b in `second` (distances in Double).
    static func meanDistance(_ values: Matrix<Float>, _ first: [Int], _ second: [Int]) -> Double {
        guard !first.isEmpty, !second.isEmpty else { return 0 }
        let d = values.cols
        var total = 0.0
        values.storage.withUnsafeBufferPointer { buffer in
            for a in first {
                let rowA = a * d
                for b in second {
                    let rowB = b * d
                    var squared = 0.0
                    for j in 0..<d {
                        let difference = Double(buffer[rowA + j]) - Double(buffer[rowB + j])
                        squared += difference * difference
                    }
                    total += squared.squareRoot()
                }
            }
        }
        return total / (Double(first.count) * Double(second.count))
    }
}
