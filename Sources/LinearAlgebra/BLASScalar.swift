import COpenBLAS
import Foundation

/// A floating-point type with BLAS and LAPACK kernels: `Float` or `Double`.
///
/// The static requirements are thin, unchecked wrappers over the C routines; `Matrix` and the
/// decomposition functions check shapes before calling them.
public protocol BLASScalar: BinaryFloatingPoint, BitwiseCopyable, Sendable, Codable, CustomStringConvertible
where Self.RawSignificand: FixedWidthInteger {
    /// eˣ (libm's `exp`/`expf`).
    static func exponential(_ x: Self) -> Self
    /// Natural logarithm (libm's `log`/`logf`).
    static func logarithm(_ x: Self) -> Self

    /// `C ← α·op(A)·op(B) + β·C` on row-major buffers (`cblas_?gemm`).
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int
    )

    /// LAPACK `?syevd` (jobz = "V", uplo = "U") on a column-major n×n buffer.
    static func syevd(
        n: Int32, a: UnsafeMutablePointer<Self>, w: UnsafeMutablePointer<Self>,
        work: UnsafeMutablePointer<Self>, lwork: Int32,
        iwork: UnsafeMutablePointer<Int32>, liwork: Int32
    ) -> Int32

    /// LAPACK `?gesdd` (jobz = "S") on a column-major m×n buffer.
    static func gesdd(
        m: Int32, n: Int32, a: UnsafeMutablePointer<Self>, s: UnsafeMutablePointer<Self>,
        u: UnsafeMutablePointer<Self>, ldu: Int32, vt: UnsafeMutablePointer<Self>, ldvt: Int32,
        work: UnsafeMutablePointer<Self>, lwork: Int32, iwork: UnsafeMutablePointer<Int32>
    ) -> Int32
}

@inline(__always)
private func cblasTranspose(_ transpose: Bool) -> CBLAS_TRANSPOSE {
    transpose ? CblasTrans : CblasNoTrans
}

extension Float: BLASScalar {
    @inline(__always) public static func exponential(_ x: Float) -> Float { Foundation.exp(x) }
    @inline(__always) public static func logarithm(_ x: Float) -> Float { Foundation.log(x) }

    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
            beta, c, blasint(ldc))
    }

    public static func syevd(
        n: Int32, a: UnsafeMutablePointer<Float>, w: UnsafeMutablePointer<Float>,
        work: UnsafeMutablePointer<Float>, lwork: Int32,
        iwork: UnsafeMutablePointer<Int32>, liwork: Int32
    ) -> Int32 {
        var n = n, lda = n, lwork = lwork, liwork = liwork, info: Int32 = 0
        ssyevd_("V", "U", &n, a, &lda, w, work, &lwork, iwork, &liwork, &info, 1, 1)
        return info
    }

    public static func gesdd(
        m: Int32, n: Int32, a: UnsafeMutablePointer<Float>, s: UnsafeMutablePointer<Float>,
        u: UnsafeMutablePointer<Float>, ldu: Int32, vt: UnsafeMutablePointer<Float>, ldvt: Int32,
        work: UnsafeMutablePointer<Float>, lwork: Int32, iwork: UnsafeMutablePointer<Int32>
    ) -> Int32 {
        var m = m, n = n, lda = m, ldu = ldu, ldvt = ldvt, lwork = lwork, info: Int32 = 0
        sgesdd_("S", &m, &n, a, &lda, s, u, &ldu, vt, &ldvt, work, &lwork, iwork, &info, 1)
        return info
    }
}

extension Double: BLASScalar {
    @inline(__always) public static func exponential(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func logarithm(_ x: Double) -> Double { Foundation.log(x) }

    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(
            CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
            beta, c, blasint(ldc))
    }

    public static func syevd(
        n: Int32, a: UnsafeMutablePointer<Double>, w: UnsafeMutablePointer<Double>,
        work: UnsafeMutablePointer<Double>, lwork: Int32,
        iwork: UnsafeMutablePointer<Int32>, liwork: Int32
    ) -> Int32 {
        var n = n, lda = n, lwork = lwork, liwork = liwork, info: Int32 = 0
        dsyevd_("V", "U", &n, a, &lda, w, work, &lwork, iwork, &liwork, &info, 1, 1)
        return info
    }

    public static func gesdd(
        m: Int32, n: Int32, a: UnsafeMutablePointer<Double>, s: UnsafeMutablePointer<Double>,
        u: UnsafeMutablePointer<Double>, ldu: Int32, vt: UnsafeMutablePointer<Double>, ldvt: Int32,
        work: UnsafeMutablePointer<Double>, lwork: Int32, iwork: UnsafeMutablePointer<Int32>
    ) -> Int32 {
        var m = m, n = n, lda = m, ldu = ldu, ldvt = ldvt, lwork = lwork, info: Int32 = 0
        dgesdd_("S", &m, &n, a, &lda, s, u, &ldu, vt, &ldvt, work, &lwork, iwork, &info, 1)
        return info
    }
}
