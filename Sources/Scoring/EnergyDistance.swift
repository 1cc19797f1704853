import Dispatch
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

    /// Mean of ‖a − b‖ over all a in `first`, b in `second`, in Double: blocks of `first`
    /// against `second` through one gemm each (‖a‖² + ‖b‖² − 2a·b), the blocks spread over the
    /// cores; a pair of the same cell counts 0 exactly. When both are the same cells, only the
    /// pairs above the diagonal are computed, and counted twice.
    static func meanDistance(_ values: Matrix<Float>, _ first: [Int], _ second: [Int]) -> Double {
        guard !first.isEmpty, !second.isEmpty else { return 0 }
        let symmetric = first == second
        let a = values.rows(at: first).converted(to: Double.self)
        let b = symmetric ? a : values.rows(at: second).converted(to: Double.self)
        let normsA = squaredNorms(a), normsB = symmetric ? normsA : squaredNorms(b)
        let blockRows = Swift.max(16, Swift.min(512, (1 << 21) / Swift.max(1, second.count)))
        let blocks = (first.count + blockRows - 1) / blockRows
        var partial = [Double](repeating: 0, count: blocks)
        partial.withUnsafeMutableBufferPointer { sums in
            let output = UncheckedSendable(sums)
            DispatchQueue.concurrentPerform(iterations: blocks) { block in
                let start = block * blockRows, end = Swift.min(first.count, start + blockRows)
                // Symmetric: this block's rows against the columns from its first row on.
                let columnStart = symmetric ? start : 0
                let rows = a.rows(at: Array(start..<end))
                let columns = symmetric ? b.rows(at: Array(columnStart..<second.count)) : b
                let products = rows.multiplied(by: columns, transposeOther: true)
                let width = second.count - columnStart
                var total = 0.0
                for i in 0..<(end - start) {
                    let cell = first[start + i], base = i * width
                    // Above the diagonal only, when symmetric.
                    for k in (symmetric ? i + 1 : 0)..<width where second[columnStart + k] != cell {
                        let squared = normsA[start + i] + normsB[columnStart + k] - 2 * products.storage[base + k]
                        if squared > 0 { total += squared.squareRoot() }
                    }
                }
                output.value[block] = symmetric ? 2 * total : total
            }
        }
        return partial.reduce(0, +) / (Double(first.count) * Double(second.count))
    }

    static func squaredNorms(_ points: Matrix<Double>) -> [Double] {
        (0..<points.rows).map { i in points.row(i).reduce(0) { $0 + $1 * $1 } }
    }
}
