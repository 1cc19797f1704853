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
        let count = rows * cols
        var storage = [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
            // Each block is zeroed (first touched) by the worker that owns it.
            let base = UncheckedSendable(buffer.baseAddress)
            parallelForRanges(count: count, minimumBlock: 1 << 16) { range in
                base.value.map { ($0 + range.lowerBound).initialize(repeating: 0, count: range.count) }
            }
            initialized = count
        }
        let major = format == .csr ? rows : cols
        let isCSR = format == .csr
        let rowStride = cols
        storage.withUnsafeMutableBufferPointer { dense in
            data.withUnsafeBufferPointer { values in
                indices.withUnsafeBufferPointer { minorIndex in
                    indptr.withUnsafeBufferPointer { pointers in
                        let shared = UncheckedSendable((dense, values, minorIndex, pointers))
                        parallelForRanges(count: major, minimumBlock: 256) { range in
                            let (dense, values, minorIndex, pointers) = shared.value
                            for k in range {
                                for p in pointers[k]..<pointers[k + 1] {
                                    let minor = Int(minorIndex[p])
                                    dense[isCSR ? k * rowStride + minor : minor * rowStride + k] = values[p]
                                }
                            }
                        }
                    }
                }
            }
        }
        return try! Matrix(rows: rows, cols: cols, storage: storage)  // count is rows * cols by construction
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
