extension Matrix {
    /// `op(self) · op(other)` through one `cblas_?gemm` call, where `op` optionally transposes.
    ///
    /// Shapes are a programming contract here (callers validate input shapes where data enters);
    /// a mismatch stops with a message naming both shapes.
    public func multiplied(
        by other: Matrix, transposeSelf: Bool = false, transposeOther: Bool = false,
        scale alpha: Scalar = 1
    ) -> Matrix {
        let m = transposeSelf ? cols : rows
        let k = transposeSelf ? rows : cols
        let otherK = transposeOther ? other.cols : other.rows
        let n = transposeOther ? other.rows : other.cols
        precondition(
            k == otherK,
            "cannot multiply \(transposeSelf ? "transposed " : "")\(rows)×\(cols) by "
                + "\(transposeOther ? "transposed " : "")\(other.rows)×\(other.cols)")
        guard m > 0, n > 0, k > 0 else { return Matrix(rows: m, cols: n) }
        // With β = 0 BLAS never reads C, so the result needs no zeroing first.
        let product = [Scalar](unsafeUninitializedCapacity: m * n) { c, initialized in
            storage.withUnsafeBufferPointer { a in
                other.storage.withUnsafeBufferPointer { b in
                    Scalar.gemm(
                        transposeA: transposeSelf, transposeB: transposeOther, m: m, n: n, k: k,
                        alpha: alpha, a: a.baseAddress!, lda: cols,
                        b: b.baseAddress!, ldb: other.cols,
                        beta: 0, c: c.baseAddress!, ldc: n)
                }
            }
            initialized = m * n
        }
        return Matrix(uncheckedRows: m, cols: n, storage: product)
    }

    /// Matrix product `lhs · rhs`.
    public static func * (lhs: Matrix, rhs: Matrix) -> Matrix {
        lhs.multiplied(by: rhs)
    }
}

extension Matrix {
    /// `self ← self + alpha·op(a)·op(b)` through one `cblas_?gemm` call with β = 1: a product
    /// accumulated in place, without a temporary.
    public mutating func addProduct(
        _ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false, scale alpha: Scalar = 1
    ) {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let bK = transposeB ? b.cols : b.rows
        let n = transposeB ? b.rows : b.cols
        precondition(k == bK && m == rows && n == cols,
                     "cannot add a product of \(a.rows)×\(a.cols) and \(b.rows)×\(b.cols) to \(rows)×\(cols)")
        guard m > 0, n > 0, k > 0 else { return }
        let ldc = cols
        a.storage.withUnsafeBufferPointer { aBuffer in
            b.storage.withUnsafeBufferPointer { bBuffer in
                storage.withUnsafeMutableBufferPointer { c in
                    Scalar.gemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                        alpha: alpha, a: aBuffer.baseAddress!, lda: a.cols,
                        b: bBuffer.baseAddress!, ldb: b.cols,
                        beta: 1, c: c.baseAddress!, ldc: ldc)
                }
            }
        }
    }
}
