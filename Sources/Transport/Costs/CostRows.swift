import LinearAlgebra

/// Something that writes rows of a cost matrix on demand: the squared-Euclidean gemm path or a
/// separable translation-invariant cost (`GroundCost`).
protocol CostRowSource<Scalar>: Sendable {
    associatedtype Scalar: TransportScalar
    var rows: Int { get }
    var cols: Int { get }
    /// The rows of Cᵀ (the clouds' roles swapped).
    var transposedSource: any CostRowSource<Scalar> { get }
    /// Writes rows `range` of the cost matrix, row-major `range.count × cols`, into `buffer`.
    func fillRows(_ range: Range<Int>, into buffer: UnsafeMutablePointer<Scalar>)
    /// The whole n × m cost matrix.
    func matrix() -> Matrix<Scalar>
}

extension CostRowSource {
    /// One `fillRows` call over every row (the gemm path threads inside BLAS).
    func matrix() -> Matrix<Scalar> {
        var result = Matrix<Scalar>(rows: rows, cols: cols)
        result.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { fillRows(0..<rows, into: base) }
        }
        return result
    }

    /// The matrix filled by row blocks on every core: for costs with no BLAS path, whose
    /// coordinate loop is the whole cost of building the matrix.
    func matrixOnAllCores() -> Matrix<Scalar> {
        var result = Matrix<Scalar>(rows: rows, cols: cols)
        let m = cols
        result.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let shared = UncheckedSendable(base)
            parallelForRanges(count: rows, minimumBlock: Swift.max(1, (1 << 14) / Swift.max(1, m))) { range in
                fillRows(range, into: shared.value + range.lowerBound * m)
            }
        }
        return result
    }
}

/// A cost matrix computed once and then read: what Sinkhorn keeps for a cost without a gemm path,
/// so that its transpose, the default ε and the ε search's runs do not recompute h(x_i − y_j).
struct PrecomputedCost<Scalar: TransportScalar>: CostRowSource, @unchecked Sendable {
    let values: Matrix<Scalar>

    var rows: Int { values.rows }
    var cols: Int { values.cols }
    var transposedSource: any CostRowSource<Scalar> { PrecomputedCost(values: values.transposed) }

    func fillRows(_ range: Range<Int>, into buffer: UnsafeMutablePointer<Scalar>) {
        values.withUnsafeBufferPointer { source in
            guard let base = source.baseAddress else { return }
            buffer.update(from: base + range.lowerBound * cols, count: range.count * cols)
        }
    }

    func matrix() -> Matrix<Scalar> { values }
}

/// Rows of a cost matrix for the Sinkhorn updates: cached whole (dense mode) or recomputed
/// block by block each time (online mode, memory O((n + m)·d) plus one block per worker).
enum CostRows<Scalar: TransportScalar>: @unchecked Sendable {
    case dense(Matrix<Scalar>)
    case online(any CostRowSource<Scalar>)

    var rows: Int {
        switch self {
        case .dense(let c): return c.rows
        case .online(let cost): return cost.rows
        }
    }

    var cols: Int {
        switch self {
        case .dense(let c): return c.cols
        case .online(let cost): return cost.cols
        }
    }

    /// Rows per block in online mode: about 2²⁰ cost values (4 MiB in Float) per worker. Each
    /// block is one gemm against all of y, which packs y again every call: blocks of 2¹⁵
    /// values (8 rows at m = 16,384) spent most of an iteration packing; 2¹⁹–2²¹ were 18–24 %
    /// faster at 16,384² (notes/bench/sinkhorn-row-kernels-large.md).
    var blockRows: Int { Swift.max(8, (1 << 20) / Swift.max(1, cols)) }

    /// Calls `body(firstRow, rowCount, costRows)` for consecutive blocks covering `range`.
    func forEachBlock(
        in range: Range<Int>, _ body: (Int, Int, UnsafePointer<Scalar>) -> Void
    ) {
        switch self {
        case .dense(let c):
            c.withUnsafeBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                body(range.lowerBound, range.count, base + range.lowerBound * c.cols)
            }
        case .online(let cost):
            let step = blockRows
            var block = [Scalar](repeating: 0, count: step * cost.cols)
            block.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                var start = range.lowerBound
                while start < range.upperBound {
                    let end = Swift.min(range.upperBound, start + step)
                    cost.fillRows(start..<end, into: base)
                    body(start, end - start, UnsafePointer(base))
                    start = end
                }
            }
        }
    }
}
