import AnnData
import Foundation
import LinearAlgebra
import Stages

/// A CSR matrix as three cache-entry files, as scipy holds one: `<name>.data.npy` (float32),
/// `<name>.indices.npy` (int32 columns) and `<name>.indptr.npy` (int64, rows + 1), each a 1-D
/// `.npy` array, so `scipy.sparse.csr_matrix((data, indices, indptr), shape=…)` opens them.
/// Written from the matrix's own arrays, read memory-mapped a block of rows at a time
/// (`MappedCSR`).
enum CSRFile {
    static func fileNames(_ name: String) -> (data: String, indices: String, indptr: String) {
        ("\(name).data.npy", "\(name).indices.npy", "\(name).indptr.npy")
    }

    /// Writes the three files to scratch files of `cache`; the prepared files of an entry.
    static func write(_ sparse: SparseMatrix<Float>, name: String, cache: TaskCache) throws -> [String: URL] {
        let names = fileNames(name)
        let indptr = sparse.indptr.map { Int64($0).littleEndian }
        return [
            names.data: try sparse.data.withUnsafeBytes {
                try MatrixFile.write(MatrixFile.header(shape: [sparse.nonzeroCount], descr: "<f4"), $0, to: cache.scratchFile(names.data))
            },
            names.indices: try sparse.indices.withUnsafeBytes {
                try MatrixFile.write(MatrixFile.header(shape: [sparse.nonzeroCount], descr: "<i4"), $0, to: cache.scratchFile(names.indices))
            },
            names.indptr: try indptr.withUnsafeBytes {
                try MatrixFile.write(MatrixFile.header(shape: [indptr.count], descr: "<i8"), $0, to: cache.scratchFile(names.indptr))
            },
        ]
    }
}

/// A CSR matrix of a cache entry, memory-mapped: `rows(at:)` makes only the asked rows dense.
public struct MappedCSR: RowBlocks {
    let data: Data
    let indices: Data
    let indptr: Data
    let offsets: (data: Int, indices: Int, indptr: Int)
    let name: String
    public let rowCount: Int
    public let columnCount: Int

    /// Opens entry `key`'s files of matrix `name` (rows × cols, as its labels file says).
    init(cache: TaskCache, key: String, name: String, rows: Int, cols: Int) throws {
        let names = CSRFile.fileNames(name)
        let label = "\(name) of entry \(key)"
        data = try cache.mapped(key, file: names.data)
        indices = try cache.mapped(key, file: names.indices)
        indptr = try cache.mapped(key, file: names.indptr)
        let dataLayout = try MatrixFile.layout(data, name: "\(names.data) of entry \(key)", descr: "<f4", width: 4)
        let indicesLayout = try MatrixFile.layout(indices, name: "\(names.indices) of entry \(key)", descr: "<i4", width: 4)
        let indptrLayout = try MatrixFile.layout(indptr, name: "\(names.indptr) of entry \(key)", descr: "<i8", width: 8)
        guard dataLayout.shape.count == 1, indicesLayout.shape == dataLayout.shape, indptrLayout.shape == [rows + 1] else {
            throw PipelineError.cache("\(label): data \(dataLayout.shape), indices \(indicesLayout.shape) and indptr \(indptrLayout.shape) do not make a CSR matrix of \(rows) rows")
        }
        offsets = (dataLayout.offset, indicesLayout.offset, indptrLayout.offset)
        self.name = label
        rowCount = rows
        columnCount = cols
        let entries = dataLayout.shape[0]
        let pointers = indptr.withUnsafeBytes { raw in
            (0...rows).map { Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offsets.indptr + 8 * $0, as: Int64.self))) }
        }
        guard pointers.first == 0, pointers.last == entries, zip(pointers, pointers.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw PipelineError.cache("\(label): indptr does not rise from 0 to \(entries)")
        }
    }

    public func rows(at rows: [Int]) throws -> Matrix<Float> {
        let offsets = offsets
        return try data.withUnsafeBytes { data in
            try indices.withUnsafeBytes { indices in
                try indptr.withUnsafeBytes { indptr in
                    func pointer(_ i: Int) -> Int { Int(Int64(littleEndian: indptr.loadUnaligned(fromByteOffset: offsets.indptr + 8 * i, as: Int64.self))) }
                    do {
                        return try CSRRows.dense(rows: rows, cols: columnCount, rowCount: rowCount, start: pointer, end: { pointer($0 + 1) },
                                                 column: { Int(Int32(littleEndian: indices.loadUnaligned(fromByteOffset: offsets.indices + 4 * $0, as: Int32.self))) },
                                                 value: { Float(bitPattern: UInt32(littleEndian: data.loadUnaligned(fromByteOffset: offsets.data + 4 * $0, as: UInt32.self))) })
                    } catch let error as StageError {
                        throw PipelineError.cache("\(name): \(error)")
                    }
                }
            }
        }
    }
}
