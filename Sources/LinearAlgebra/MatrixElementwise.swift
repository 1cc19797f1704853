/// Element-wise operations over the contiguous storage: what the hand-written network passes
/// run between their gemms. Inlinable so that generic callers in other modules get them
/// specialised and vectorised instead of calling per element.
extension Matrix {
    /// `transform` applied to every element.
    @inlinable
    public func map(_ transform: (Scalar) -> Scalar) -> Matrix {
        let count = storage.count
        let values = [Scalar](unsafeUninitializedCapacity: count) { buffer, initialised in
            storage.withUnsafeBufferPointer { source in
                for index in 0..<count { buffer[index] = transform(source[index]) }
            }
            initialised = count
        }
        return Matrix(uncheckedRows: rows, cols: cols, storage: values)
    }

    /// `combine(self[i, j], other[i, j])` for every element; the shapes must agree.
    @inlinable
    public func combined(with other: Matrix, _ combine: (Scalar, Scalar) -> Scalar) -> Matrix {
        precondition(rows == other.rows && cols == other.cols, "element-wise operands differ in shape")
        let count = storage.count
        let values = [Scalar](unsafeUninitializedCapacity: count) { buffer, initialised in
            storage.withUnsafeBufferPointer { a in
                other.storage.withUnsafeBufferPointer { b in
                    for index in 0..<count { buffer[index] = combine(a[index], b[index]) }
                }
            }
            initialised = count
        }
        return Matrix(uncheckedRows: rows, cols: cols, storage: values)
    }

    /// The element-wise sum.
    @inlinable
    public static func + (lhs: Matrix, rhs: Matrix) -> Matrix {
        lhs.combined(with: rhs, +)
    }

    /// The element-wise difference.
    @inlinable
    public static func - (lhs: Matrix, rhs: Matrix) -> Matrix {
        lhs.combined(with: rhs, -)
    }

    /// `vector` added to every row (a bias); its length must be `cols`.
    @inlinable
    public func addingToEachRow(_ vector: [Scalar]) -> Matrix {
        var sum = self
        sum.addToEachRow(vector)
        return sum
    }

    /// Adds `vector` to every row in place; its length must be `cols`.
    @inlinable
    public mutating func addToEachRow(_ vector: [Scalar]) {
        precondition(vector.count == cols, "row vector has \(vector.count) entries, expected \(cols)")
        let (rows, cols) = (self.rows, self.cols)
        guard rows > 0, cols > 0 else { return }
        withUnsafeMutableBufferPointer { buffer in
            vector.withUnsafeBufferPointer { v in
                // Plain pointers, one row at a time: the inner loop vectorises.
                guard let base = buffer.baseAddress, let bias = v.baseAddress else { return }
                for i in 0..<rows {
                    let row = base + i * cols
                    for j in 0..<cols { row[j] += bias[j] }
                }
            }
        }
    }

    /// The sum of each column.
    @inlinable
    public func columnSums() -> [Scalar] {
        var sums = [Scalar](repeating: 0, count: cols)
        storage.withUnsafeBufferPointer { buffer in
            sums.withUnsafeMutableBufferPointer { s in
                for i in 0..<rows {
                    for j in 0..<cols { s[j] += buffer[i * cols + j] }
                }
            }
        }
        return sums
    }
}
