/// Eigen-decomposition of a symmetric matrix: `A = V · diag(values) · Vᵀ`.
public struct SymmetricEigen<Scalar: BLASScalar>: Sendable {
    /// Eigenvalues in ascending order.
    public let values: [Scalar]
    /// Orthonormal eigenvectors as columns: column `j` belongs to `values[j]`.
    public let vectors: Matrix<Scalar>
}

/// Thin singular value decomposition `A = U · diag(singularValues) · Vᵀ` of an m×n matrix,
/// with k = min(m, n) singular values in descending order.
public struct ThinSVD<Scalar: BLASScalar>: Sendable {
    /// m×k, orthonormal columns.
    public let u: Matrix<Scalar>
    public let singularValues: [Scalar]
    /// k×n, orthonormal rows.
    public let vt: Matrix<Scalar>
}

extension Matrix {
    /// Eigen-decomposition of this symmetric matrix via LAPACK `?syevd` (divide and conquer).
    ///
    /// Only the upper triangle (in row-major terms, equivalently LAPACK's lower) is read.
    /// - Throws: `shapeMismatch` for a non-square matrix, `nonFinite` for NaN/∞ input,
    ///   `lapackFailure` if LAPACK does not converge.
    public func symmetricEigen() throws -> SymmetricEigen<Scalar> {
        guard rows == cols else {
            throw LinearAlgebraError.shapeMismatch("eigendecomposition needs a square matrix, got \(rows)×\(cols)")
        }
        guard allFinite else { throw LinearAlgebraError.nonFinite("matrix passed to symmetricEigen") }
        let n = rows
        if n == 0 { return SymmetricEigen(values: [], vectors: self) }
        // Row-major symmetric A is the same buffer as column-major A, so it goes in as is;
        // the column-major eigenvectors come back as the rows of the row-major buffer.
        var a = storage
        var values = [Scalar](repeating: 0, count: n)
        var workSize: Scalar = 0
        var iworkSize: Int32 = 0
        var info = a.withUnsafeMutableBufferPointer { ap in
            values.withUnsafeMutableBufferPointer { wp in
                Scalar.syevd(n: Int32(n), a: ap.baseAddress!, w: wp.baseAddress!,
                             work: &workSize, lwork: -1, iwork: &iworkSize, liwork: -1)
            }
        }
        guard info == 0 else { throw LinearAlgebraError.lapackFailure(routine: "syevd", info: Int(info)) }
        let lwork = Int(workSize.rounded(.up))
        var work = [Scalar](repeating: 0, count: Swift.max(1, lwork))
        var iwork = [Int32](repeating: 0, count: Swift.max(1, Int(iworkSize)))
        info = a.withUnsafeMutableBufferPointer { ap in
            values.withUnsafeMutableBufferPointer { wp in
                work.withUnsafeMutableBufferPointer { workp in
                    iwork.withUnsafeMutableBufferPointer { iworkp in
                        Scalar.syevd(n: Int32(n), a: ap.baseAddress!, w: wp.baseAddress!,
                                     work: workp.baseAddress!, lwork: Int32(workp.count),
                                     iwork: iworkp.baseAddress!, liwork: Int32(iworkp.count))
                    }
                }
            }
        }
        guard info == 0 else { throw LinearAlgebraError.lapackFailure(routine: "syevd", info: Int(info)) }
        let eigenvectorsAsRows = Matrix(uncheckedRows: n, cols: n, storage: a)
        return SymmetricEigen(values: values, vectors: eigenvectorsAsRows.transposed)
    }

    /// Thin SVD via LAPACK `?gesdd`.
    /// - Throws: `nonFinite` for NaN/∞ input, `lapackFailure` if LAPACK does not converge.
    public func thinSVD() throws -> ThinSVD<Scalar> {
        guard allFinite else { throw LinearAlgebraError.nonFinite("matrix passed to thinSVD") }
        let m = rows, n = cols, k = Swift.min(rows, cols)
        if k == 0 {
            return ThinSVD(u: Matrix(rows: m, cols: 0), singularValues: [], vt: Matrix(rows: 0, cols: n))
        }
        // The row-major m×n buffer is column-major Aᵀ (n×m). LAPACK factors Aᵀ = U'·S·V'ᵀ, so
        // A = V'·S·U'ᵀ; read row-major, LAPACK's `vt` buffer (k×m column-major) is V' (m×k) = U
        // and its `u` buffer (n×k column-major) is U'ᵀ (k×n) = Vᵀ. No copies or transposes.
        var a = storage
        var s = [Scalar](repeating: 0, count: k)
        var uOfTranspose = [Scalar](repeating: 0, count: n * k)
        var vtOfTranspose = [Scalar](repeating: 0, count: k * m)
        var iwork = [Int32](repeating: 0, count: 8 * k)
        func call(work: UnsafeMutablePointer<Scalar>, lwork: Int32) -> Int32 {
            a.withUnsafeMutableBufferPointer { ap in
                s.withUnsafeMutableBufferPointer { sp in
                    uOfTranspose.withUnsafeMutableBufferPointer { up in
                        vtOfTranspose.withUnsafeMutableBufferPointer { vp in
                            iwork.withUnsafeMutableBufferPointer { ip in
                                Scalar.gesdd(
                                    m: Int32(n), n: Int32(m), a: ap.baseAddress!, s: sp.baseAddress!,
                                    u: up.baseAddress!, ldu: Int32(n), vt: vp.baseAddress!,
                                    ldvt: Int32(k), work: work, lwork: lwork, iwork: ip.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        var workSize: Scalar = 0
        var info = call(work: &workSize, lwork: -1)
        guard info == 0 else { throw LinearAlgebraError.lapackFailure(routine: "gesdd", info: Int(info)) }
        var work = [Scalar](repeating: 0, count: Swift.max(1, Int(workSize.rounded(.up))))
        info = work.withUnsafeMutableBufferPointer { call(work: $0.baseAddress!, lwork: Int32($0.count)) }
        guard info == 0 else { throw LinearAlgebraError.lapackFailure(routine: "gesdd", info: Int(info)) }
        return ThinSVD(
            u: Matrix(uncheckedRows: m, cols: k, storage: vtOfTranspose),
            singularValues: s,
            vt: Matrix(uncheckedRows: k, cols: n, storage: uOfTranspose))
    }
}
