import AnnData
import LinearAlgebra

/// The load stage's features as it keeps them: dense rows, or compressed sparse rows when the
/// file stores X as CSR (or CSC) and the transformed counts stay sparse — sci-RNA counts are
/// mostly zeros, so a screen's 533,880 cells × 2,000 genes take a fraction of the 4.3 GB
/// their dense float32 form would, and are never densified whole. Rows are made dense only a
/// block at a time, where a stage asks for them (`RowBlocks`).
public enum LoadedFeatures: RowBlocks {
    case dense(Matrix<Float>)
    case csr(SparseMatrix<Float>)

    /// The CSR form is kept only while its data and indices (8 bytes an entry) take less room
    /// than the dense float32 matrix (4 bytes a value): below half the values stored.
    public static func preferred(_ sparse: SparseMatrix<Float>) -> LoadedFeatures {
        2 * sparse.nonzeroCount < sparse.rows * sparse.cols ? .csr(sparse) : .dense(sparse.densified())
    }

    public var rowCount: Int {
        switch self {
        case .dense(let matrix): return matrix.rows
        case .csr(let sparse): return sparse.rows
        }
    }

    public var columnCount: Int {
        switch self {
        case .dense(let matrix): return matrix.cols
        case .csr(let sparse): return sparse.cols
        }
    }

    public func rows(at indices: [Int]) throws -> Matrix<Float> {
        switch self {
        case .dense(let matrix): return matrix.rows(at: indices)
        case .csr(let sparse):
            return try CSRRows.dense(rows: indices, cols: sparse.cols, rowCount: sparse.rows,
                                     start: { sparse.indptr[$0] }, end: { sparse.indptr[$0 + 1] },
                                     column: { Int(sparse.indices[$0]) }, value: { sparse.data[$0] })
        }
    }

    /// No NaN or infinity stored.
    public var allFinite: Bool {
        switch self {
        case .dense(let matrix): return matrix.allFinite
        case .csr(let sparse): return sparse.data.allSatisfy(\.isFinite)
        }
    }

    /// The whole matrix, dense (a copy for CSR).
    public func densified() -> Matrix<Float> {
        switch self {
        case .dense(let matrix): return matrix
        case .csr(let sparse): return sparse.densified()
        }
    }
}

/// Dense rows scattered from CSR storage that may not be in memory (a memory-mapped cache
/// entry, or arrays): the accessors read entry `p`'s column and value and row `i`'s bounds.
public enum CSRRows {
    /// The rows at `rows`, in that order, zeros where nothing is stored.
    /// - Throws: `StageError.invalidInput` for a row out of range or a stored column outside
    ///   `0..<cols` (a damaged file).
    public static func dense(rows: [Int], cols: Int, rowCount: Int, start: (Int) -> Int, end: (Int) -> Int,
                             column: (Int) -> Int, value: (Int) -> Float) throws -> Matrix<Float> {
        var storage = [Float](repeating: 0, count: rows.count * cols)
        try storage.withUnsafeMutableBufferPointer { target in
            for (position, row) in rows.enumerated() {
                guard row >= 0, row < rowCount else {
                    throw StageError.invalidInput("row \(row) asked of a sparse matrix of \(rowCount) rows")
                }
                let base = position * cols
                for p in start(row)..<end(row) {
                    let j = column(p)
                    guard j >= 0, j < cols else {
                        throw StageError.invalidInput("sparse matrix row \(row) stores column \(j), outside 0..<\(cols)")
                    }
                    target[base + j] = value(p)
                }
            }
        }
        return try Matrix(rows: rows.count, cols: cols, storage: storage)
    }
}
