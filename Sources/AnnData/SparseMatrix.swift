import LinearAlgebra

/// A compressed sparse matrix as anndata/scipy store it.
///
/// CSR: `indptr[i]..<indptr[i+1]` index the stored entries of row `i`, `indices` holds their
/// columns. CSC: the same per column, `indices` holds rows.
public struct SparseMatrix<Scalar: BLASScalar>: Sendable, Equatable {
    public enum Format: String, Sendable { case csr, csc }

    public let format: Format
    public let rows: Int
    public let cols: Int
    public let data: [Scalar]
    public let indices: [Int32]
    public let indptr: [Int]

    /// A sparse matrix after checking that `indptr` and `indices` are consistent.
    /// - Throws: a description of the first inconsistency found.
    public init(format: Format, rows: Int, cols: Int, data: [Scalar], indices: [Int32], indptr: [Int]) throws {
        let major = format == .csr ? rows : cols
        let minor = format == .csr ? cols : rows
        guard rows >= 0, cols >= 0 else { throw SparseLayoutError("negative shape \(rows)×\(cols)") }
        guard indptr.count == major + 1 else {
            throw SparseLayoutError("indptr has \(indptr.count) entries, expected \(major + 1)")
        }
        guard data.count == indices.count else {
            throw SparseLayoutError("data has \(data.count) entries but indices has \(indices.count)")
        }
        guard indptr.first == 0, indptr.last == data.count else {
            throw SparseLayoutError("indptr must run from 0 to \(data.count), runs from \(indptr.first ?? -1) to \(indptr.last ?? -1)")
        }
        for k in 0..<major where indptr[k] > indptr[k + 1] {
            throw SparseLayoutError("indptr decreases at position \(k)")
        }
        if let bad = indices.first(where: { $0 < 0 || Int($0) >= minor }) {
            throw SparseLayoutError("index \(bad) out of range 0..<\(minor)")
        }
        self.format = format
        self.rows = rows
        self.cols = cols
        self.data = data
        self.indices = indices
        self.indptr = indptr
    }

    public var nonzeroCount: Int { data.count }

    /// The dense matrix, filled in parallel over blocks of rows (CSR) or columns (CSC).
    public func densified() -> Matrix<Scalar> {
        var dense = Matrix<Scalar>(rows: rows, cols: cols)
        scatter(into: &dense)
        return dense
    }

    /// Writes the stored entries into `dense`, which must have this shape and hold zeros.
    ///
    /// Entries move as bit patterns of their width through a kernel that is generic only over
    /// that width, so the loop is specialised code even when this method runs unspecialised
    /// from another module.
    public func scatter(into dense: inout Matrix<Scalar>) {
        precondition(dense.rows == rows && dense.cols == cols, "scatter target has the wrong shape")
        dense.withUnsafeMutableBufferPointer { target in
            data.withUnsafeBytes { values in
                indices.withUnsafeBufferPointer { minorIndex in
                    indptr.withUnsafeBufferPointer { pointers in
                        let layout = SparseLayout(isCSR: format == .csr, rows: rows, cols: cols,
                                                  minorIndex: minorIndex, pointers: pointers)
                        let targetBytes = UnsafeMutableRawBufferPointer(target)
                        if MemoryLayout<Scalar>.size == 4 {
                            scatterEntries(UInt32.self, layout, values: values, into: targetBytes)
                        } else {
                            scatterEntries(UInt64.self, layout, values: values, into: targetBytes)
                        }
                    }
                }
            }
        }
    }

    /// The same matrix in CSR form (a copy converted by counting sort when this is CSC).
    /// Within each row the entries come out in increasing column order.
    public func csr() -> SparseMatrix {
        guard format == .csc else { return self }
        var rowCounts = [Int](repeating: 0, count: rows + 1)
        for index in indices { rowCounts[Int(index) + 1] += 1 }
        for row in 0..<rows { rowCounts[row + 1] += rowCounts[row] }
        let rowPointers = rowCounts
        var next = rowCounts
        var csrData = [Scalar](repeating: 0, count: data.count)
        var csrIndices = [Int32](repeating: 0, count: data.count)
        for column in 0..<cols {
            for p in indptr[column]..<indptr[column + 1] {
                let row = Int(indices[p])
                csrData[next[row]] = data[p]
                csrIndices[next[row]] = Int32(column)
                next[row] += 1
            }
        }
        // Consistent by construction (this matrix was validated); re-checked in one place.
        do {
            return try SparseMatrix(format: .csr, rows: rows, cols: cols, data: csrData,
                                    indices: csrIndices, indptr: rowPointers)
        } catch {
            preconditionFailure("CSC to CSR conversion produced an invalid matrix: \(error)")
        }
    }

    /// Sum of all stored entries, accumulated in Double.
    public func sum() -> Double {
        data.reduce(0.0) { $0 + Double($1) }
    }
}

/// An inconsistency in the arrays of a sparse matrix.
public struct SparseLayoutError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The index arrays of a sparse matrix, as raw buffers for the scatter kernel.
private struct SparseLayout: @unchecked Sendable {
    let isCSR: Bool
    let rows: Int
    let cols: Int
    let minorIndex: UnsafeBufferPointer<Int32>
    let pointers: UnsafeBufferPointer<Int>
}

/// Writes every stored entry (a `Word`-wide bit pattern) to its row-major dense position.
private func scatterEntries<Word: FixedWidthInteger & SendableMetatype>(
    _: Word.Type, _ layout: SparseLayout, values: UnsafeRawBufferPointer,
    into target: UnsafeMutableRawBufferPointer
) {
    guard let targetBase = target.baseAddress else { return }
    let shared = UncheckedSendable((
        targetBase.assumingMemoryBound(to: Word.self),
        values.baseAddress?.assumingMemoryBound(to: Word.self)))
    parallelForRanges(count: layout.isCSR ? layout.rows : layout.cols, minimumBlock: 256) { range in
        let (dense, values) = shared.value
        let stride = layout.cols
        for k in range {
            guard let values else { return }
            for p in layout.pointers[k]..<layout.pointers[k + 1] {
                let minor = Int(layout.minorIndex[p])
                dense[layout.isCSR ? k * stride + minor : minor * stride + k] = values[p]
            }
        }
    }
}
