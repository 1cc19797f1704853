import Foundation
import LinearAlgebra
import Stages

/// A matrix as a cache entry file: NumPy's `.npy` format 1.0, float32 little-endian, C order
/// (`numpy.load` opens it). Large matrices stay out of the JSON outputs: writing and reading them
/// is a copy of their bytes, and `rows(of:at:)` reads only the rows a task needs from a
/// memory-mapped file, so a task that needs a drug's cells does not pay for the whole screen.
public enum MatrixFile {
    /// The file's bytes: the magic, version 1.0, a header padded so the data starts on a
    /// 64-byte boundary, then rows × cols float32 values.
    public static func encode(_ matrix: Matrix<Float>) -> Data {
        var data = header(rows: matrix.rows, cols: matrix.cols)
        matrix.storage.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }

    /// Writes the same bytes to `url` from the matrix's own storage (no copy of the values in
    /// memory); returns `url`.
    @discardableResult
    public static func write(_ matrix: Matrix<Float>, to url: URL) throws -> URL {
        try matrix.storage.withUnsafeBytes { try write(header(rows: matrix.rows, cols: matrix.cols), $0, to: url) }
    }

    /// Writes `header` then `values` to `url`, the values in 64 MiB pieces each wrapped without
    /// copying; returns `url`.
    @discardableResult
    static func write(_ header: Data, _ values: UnsafeRawBufferPointer, to url: URL) throws -> URL {
        guard FileManager.default.createFile(atPath: url.path, contents: header),
              let handle = FileHandle(forWritingAtPath: url.path) else {
            throw PipelineError.cache("cannot write \(url.path)")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        guard let base = values.baseAddress else { return url }
        let piece = 1 << 26
        for start in stride(from: 0, to: values.count, by: piece) {
            let count = Swift.min(piece, values.count - start)
            try handle.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base + start), count: count, deallocator: .none))
        }
        return url
    }

    /// The magic, version 1.0 and a header padded so the values start on a 64-byte boundary;
    /// `descr` is NumPy's type string (`<f4`, `<i4`, `<i8`).
    static func header(rows: Int, cols: Int, descr: String = "<f4") -> Data { header(shape: [rows, cols], descr: descr) }

    static func header(shape: [Int], descr: String) -> Data {
        let dimensions = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dimensions), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        return data
    }

    /// The shape and the offset of the values of a C-order `.npy` file of `descr` values (each
    /// `width` bytes), after checking the header and the file's size.
    static func layout(_ data: Data, name: String, descr: String, width: Int, noun: String = "array") throws -> (shape: [Int], offset: Int) {
        let kind = descr == "<f4" ? "float32" : descr == "<i4" ? "int32" : descr == "<i8" ? "int64" : descr
        func fail(_ what: String) -> PipelineError { .cache("\(name): not \(kind.hasPrefix("int") ? "an" : "a") \(kind) C-order .npy \(noun) (\(what))") }
        guard data.count >= 10, data.prefix(6) == Data([0x93] + Array("NUMPY".utf8)), data[data.startIndex + 6] == 1 else {
            throw fail("bad magic or version")
        }
        let length = Int(data[data.startIndex + 8]) | Int(data[data.startIndex + 9]) << 8
        guard data.count >= 10 + length, let header = String(data: data.subdata(in: (data.startIndex + 10)..<(data.startIndex + 10 + length)), encoding: .ascii)
        else { throw fail("truncated header") }
        guard header.contains("'descr': '\(descr)'"), header.contains("'fortran_order': False"),
              let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw fail("header \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let shape = header[open.upperBound..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let offset = 10 + length
        guard data.count == offset + shape.reduce(1, *) * width else {
            throw fail("\(data.count - offset) bytes of values for shape \(shape.map(String.init).joined(separator: " × "))")
        }
        return (shape, offset)
    }

    /// The shape and the offset of the values, after checking the header is one `encode` writes.
    static func layout(_ data: Data, name: String) throws -> (rows: Int, cols: Int, offset: Int) {
        let layout = try layout(data, name: name, descr: "<f4", width: MemoryLayout<Float>.size, noun: "matrix")
        guard layout.shape.count == 2 else { throw PipelineError.cache("\(name): not a float32 C-order .npy matrix (shape is not 2-D)") }
        return (layout.shape[0], layout.shape[1], layout.offset)
    }

    /// The whole matrix.
    public static func decode(_ data: Data, name: String) throws -> Matrix<Float> {
        let shape = try layout(data, name: name)
        return try rows(data, shape: shape, at: nil, name: name)
    }

    /// Only the rows at `indices` (in that order), from a file whose bytes need not all be read
    /// (a memory-mapped `Data`).
    public static func rows(of data: Data, at indices: [Int], name: String) throws -> Matrix<Float> {
        try rows(data, shape: try layout(data, name: name), at: indices, name: name)
    }

    private static func rows(_ data: Data, shape: (rows: Int, cols: Int, offset: Int), at indices: [Int]?, name: String) throws
        -> Matrix<Float> {
        let count = indices?.count ?? shape.rows
        if let bad = indices?.first(where: { $0 < 0 || $0 >= shape.rows }) {
            throw PipelineError.cache("\(name): row \(bad) asked of a matrix of \(shape.rows) rows")
        }
        var storage = [Float](repeating: 0, count: count * shape.cols)
        let rowBytes = shape.cols * MemoryLayout<Float>.size
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            storage.withUnsafeMutableBytes { output in
                guard let source = raw.baseAddress, let target = output.baseAddress, rowBytes > 0 else { return }
                if let indices {
                    for (position, row) in indices.enumerated() {
                        memcpy(target + position * rowBytes, source + shape.offset + row * rowBytes, rowBytes)
                    }
                } else {
                    memcpy(target, source + shape.offset, count * rowBytes)
                }
            }
        }
        return try Matrix(rows: count, cols: shape.cols, storage: storage)
    }
}

/// A `.npy` matrix file memory-mapped from the cache, read a few rows at a time (`RowBlocks`).
public struct MappedMatrix: RowBlocks {
    let data: Data
    let name: String
    public let rowCount: Int
    public let columnCount: Int

    public init(_ data: Data, name: String) throws {
        let shape = try MatrixFile.layout(data, name: name)
        self.data = data
        self.name = name
        rowCount = shape.rows
        columnCount = shape.cols
    }

    public func rows(at indices: [Int]) throws -> Matrix<Float> { try MatrixFile.rows(of: data, at: indices, name: name) }
}

/// A load entry's label codes: an int32 `.npy` matrix, one row per cell and one column per label
/// column (condition, then context and holdout group when present), −1 for no value. Read
/// memory-mapped: a split scans two columns of it, never the labels as text.
struct LabelCodes {
    let data: Data
    let name: String
    let rows: Int
    let columns: Int
    private let offset: Int

    static func encode(_ columns: [[Int32]]) -> Data {
        let rows = columns.first?.count ?? 0
        var data = MatrixFile.header(rows: rows, cols: columns.count, descr: "<i4")
        var values = [Int32](repeating: 0, count: rows * columns.count)
        for (column, codes) in columns.enumerated() {
            for row in 0..<rows { values[row * columns.count + column] = codes[row].littleEndian }
        }
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }

    init(_ data: Data, name: String) throws {
        let layout = try MatrixFile.layout(data, name: name, descr: "<i4", width: 4, noun: "matrix")
        guard layout.shape.count == 2 else { throw PipelineError.cache("\(name): not an int32 C-order .npy matrix (shape is not 2-D)") }
        self.data = data
        self.name = name
        rows = layout.shape[0]
        columns = layout.shape[1]
        offset = layout.offset
    }

    /// One column's codes.
    func column(_ column: Int) -> [Int32] {
        guard column < columns else { return [Int32](repeating: -1, count: rows) }
        return data.withUnsafeBytes { raw in
            (0..<rows).map { row in Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + (row * columns + column) * 4, as: Int32.self)) }
        }
    }

    /// The rows whose code in `column` is `code` (and, when given, whose code in a second column
    /// is a second code), ascending.
    func rows(where code: Int32, column: Int, and other: (column: Int, code: Int32)? = nil) -> [Int] {
        data.withUnsafeBytes { raw in
            func value(_ row: Int, _ column: Int) -> Int32 {
                Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + (row * columns + column) * 4, as: Int32.self))
            }
            return (0..<rows).filter { row in
                guard value(row, column) == code else { return false }
                guard let other else { return true }
                return other.column < columns && value(row, other.column) == other.code
            }
        }
    }
}
