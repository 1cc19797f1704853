import Foundation

/// A dense row-major matrix over contiguous storage.
///
/// Element `(i, j)` lives at `storage[i * cols + j]`; a row is therefore a contiguous slice,
/// which is what BLAS (row-major CBLAS calls) and the per-point loops of the OT solvers want.
/// `rows * cols == storage.count` holds for every value of this type.
public struct Matrix<Scalar: BLASScalar>: Sendable, Equatable, Codable {
    public let rows: Int
    public let cols: Int
    /// Row-major elements. Mutate them through `subscript` or `withUnsafeMutableBufferPointer`.
    public internal(set) var storage: [Scalar]

    /// A `rows × cols` matrix filled with `value`.
    public init(rows: Int, cols: Int, repeating value: Scalar = 0) {
        precondition(rows >= 0 && cols >= 0, "Matrix dimensions must be non-negative")
        self.rows = rows
        self.cols = cols
        self.storage = value == 0
            ? LargeArrays.zeroed(count: rows * cols)
            : [Scalar](repeating: value, count: rows * cols)
    }

    /// A `rows × cols` matrix over the given row-major elements.
    /// - Throws: `LinearAlgebraError.shapeMismatch` when `storage.count != rows * cols`.
    public init(rows: Int, cols: Int, storage: [Scalar]) throws {
        guard rows >= 0, cols >= 0, storage.count == rows * cols else {
            throw LinearAlgebraError.shapeMismatch(
                "\(storage.count) values cannot form a \(rows)×\(cols) matrix")
        }
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }

    /// A `rows × cols` matrix whose elements `initializer` writes, every one of them, into
    /// uninitialised storage: for kernels that fill an output without reading it.
    @inlinable
    public init(rows: Int, cols: Int, unsafeUninitialized initializer: (UnsafeMutableBufferPointer<Scalar>) -> Void) {
        precondition(rows >= 0 && cols >= 0, "Matrix dimensions must be non-negative")
        let count = rows * cols
        self.init(uncheckedRows: rows, cols: cols, storage: [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
            initializer(buffer)
            initialized = count
        })
    }

    /// A matrix from an array of rows.
    /// - Throws: `LinearAlgebraError.raggedRows` when the rows differ in length.
    public init(_ nestedRows: [[Scalar]]) throws {
        let cols = nestedRows.first?.count ?? 0
        var storage = [Scalar]()
        storage.reserveCapacity(nestedRows.count * cols)
        for (index, row) in nestedRows.enumerated() {
            guard row.count == cols else {
                throw LinearAlgebraError.raggedRows(row: index, expected: cols, found: row.count)
            }
            storage.append(contentsOf: row)
        }
        self.rows = nestedRows.count
        self.cols = cols
        self.storage = storage
    }

    /// A matrix whose elements are produced by `body(row, column)`.
    // Inlinable, like the element getter, so that other modules' generic numeric code (which
    // would otherwise call them unspecialised, per element) gets them specialised and inlined.
    @inlinable
    public init(rows: Int, cols: Int, generator body: (Int, Int) throws -> Scalar) rethrows {
        var storage = [Scalar]()
        storage.reserveCapacity(rows * cols)
        for i in 0..<rows {
            for j in 0..<cols { storage.append(try body(i, j)) }
        }
        self.init(uncheckedRows: rows, cols: cols, storage: storage)
    }

    /// The `n × n` identity matrix.
    public static func identity(_ n: Int) -> Matrix {
        var result = Matrix(rows: n, cols: n)
        for i in 0..<n { result[i, i] = 1 }
        return result
    }

    public var shape: (rows: Int, cols: Int) { (rows, cols) }

    public subscript(row: Int, column: Int) -> Scalar {
        @inlinable get {
            precondition(row >= 0 && row < rows && column >= 0 && column < cols,
                         "index (\(row), \(column)) out of range for \(rows)×\(cols) matrix")
            return storage[row * cols + column]
        }
        set {
            precondition(row >= 0 && row < rows && column >= 0 && column < cols,
                         "index (\(row), \(column)) out of range for \(rows)×\(cols) matrix")
            storage[row * cols + column] = newValue
        }
    }

    /// Row `i` as a contiguous slice of `storage`.
    public func row(_ i: Int) -> ArraySlice<Scalar> {
        precondition(i >= 0 && i < rows, "row \(i) out of range for \(rows) rows")
        return storage[(i * cols)..<((i + 1) * cols)]
    }

    /// Column `j`, copied.
    public func column(_ j: Int) -> [Scalar] {
        precondition(j >= 0 && j < cols, "column \(j) out of range for \(cols) columns")
        return (0..<rows).map { storage[$0 * cols + j] }
    }

    /// The rows at `indices`, in that order.
    public func rows(at indices: [Int]) -> Matrix {
        let cols = self.cols
        for i in indices { precondition(i >= 0 && i < rows, "row \(i) out of 0..<\(rows)") }
        let gathered = [Scalar](unsafeUninitializedCapacity: indices.count * cols) { target, initialized in
            storage.withUnsafeBufferPointer { source in
                guard cols > 0, let from = source.baseAddress, let to = target.baseAddress else { return }
                for (r, i) in indices.enumerated() {
                    (to + r * cols).initialize(from: from + i * cols, count: cols)
                }
            }
            initialized = indices.count * cols
        }
        return Matrix(uncheckedRows: indices.count, cols: cols, storage: gathered)
    }

    /// The transpose, copied into new row-major storage.
    public var transposed: Matrix {
        var result = Matrix(rows: cols, cols: rows)
        storage.withUnsafeBufferPointer { source in
            result.storage.withUnsafeMutableBufferPointer { target in
                for i in 0..<rows {
                    for j in 0..<cols { target[j * rows + i] = source[i * cols + j] }
                }
            }
        }
        return result
    }

    /// The same matrix with elements converted to another precision.
    @inlinable
    public func converted<Other: BLASScalar>(to _: Other.Type = Other.self) -> Matrix<Other> {
        Matrix<Other>(uncheckedRows: rows, cols: cols, storage: storage.map { Other($0) })
    }

    /// The array of rows (for tests and small outputs; hot code uses `storage`).
    public var nestedRows: [[Scalar]] {
        (0..<rows).map { Array(row($0)) }
    }

    public func withUnsafeBufferPointer<R>(
        _ body: (UnsafeBufferPointer<Scalar>) throws -> R
    ) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R
    ) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer(body)
    }

    /// Builds a matrix whose shape the caller has already checked.
    @usableFromInline
    init(uncheckedRows rows: Int, cols: Int, storage: [Scalar]) {
        assert(storage.count == rows * cols)
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }

    private enum CodingKeys: String, CodingKey { case rows, cols, storage, bytes }

    /// Reads both encodings: `bytes` (what `encode(to:)` writes) and a `storage` array of numbers
    /// (what perturbot wrote before, so older cache entries stay readable).
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let rows = try container.decode(Int.self, forKey: .rows)
        let cols = try container.decode(Int.self, forKey: .cols)
        guard let text = try container.decodeIfPresent(String.self, forKey: .bytes) else {
            try self.init(rows: rows, cols: cols, storage: try container.decode([Scalar].self, forKey: .storage))
            return
        }
        guard let data = Data(base64Encoded: text) else {
            throw DecodingError.dataCorruptedError(forKey: .bytes, in: container, debugDescription: "not base64")
        }
        let size = MemoryLayout<Scalar>.size
        guard rows >= 0, cols >= 0, data.count == rows * cols * size else {
            throw DecodingError.dataCorruptedError(
                forKey: .bytes, in: container,
                debugDescription: "\(data.count) bytes cannot form a \(rows)×\(cols) matrix of \(size)-byte values")
        }
        var storage: [Scalar] = LargeArrays.zeroed(count: rows * cols)
        storage.withUnsafeMutableBytes { target in _ = data.copyBytes(to: target) }
        self.init(uncheckedRows: rows, cols: cols, storage: storage)
    }

    /// The elements as base64 of their IEEE-754 bytes (little-endian, row-major): exact, and a
    /// cache entry of a 4000 × 3000 gene matrix decodes in a fraction of a second instead of the
    /// tens of seconds twelve million JSON numbers take.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rows, forKey: .rows)
        try container.encode(cols, forKey: .cols)
        let text = storage.withUnsafeBytes { Data($0).base64EncodedString() }
        try container.encode(text, forKey: .bytes)
    }
}

#if _endian(big)
#error("Matrix's Codable writes native byte order, which perturbot's cache defines as little-endian")
#endif

extension Matrix {
    /// The largest absolute elementwise difference to `other` (same shape required).
    public func maxAbsDifference(_ other: Matrix) -> Scalar {
        precondition(rows == other.rows && cols == other.cols, "shapes differ")
        var result: Scalar = 0
        for (a, b) in zip(storage, other.storage) { result = Swift.max(result, abs(a - b)) }
        return result
    }

    /// Whether every element is finite.
    @inlinable
    public var allFinite: Bool {
        storage.withUnsafeBufferPointer { buffer in
            // x − x is 0 for finite x and NaN for ±∞ or NaN: one pass without a branch per element.
            var probe: Scalar = 0
            for value in buffer { probe += value - value }
            return probe == 0
        }
    }
}
