import Foundation
import LinearAlgebra
import XCTest

final class DecompositionTests: XCTestCase {
    /// The n×n second-difference matrix tridiag(−1, 2, −1) has eigenvalues
    /// 2 − 2·cos(kπ/(n+1)), k = 1…n, and eigenvectors sin(jkπ/(n+1)).
    func testEigenvaluesOfSecondDifferenceMatrixMatchClosedForm() throws {
        let n = 9
        let a = Matrix<Double>(rows: n, cols: n) { i, j in
            i == j ? 2 : (abs(i - j) == 1 ? -1 : 0)
        }
        let eigen = try a.symmetricEigen()
        let expected = (1...n).map { 2 - 2 * cos(Double($0) * Double.pi / Double(n + 1)) }
        for (value, reference) in zip(eigen.values, expected) {
            XCTAssertEqual(value, reference, accuracy: 1e-12)
        }
        // A·V = V·Λ and VᵀV = I.
        let av = a * eigen.vectors
        let vl = Matrix<Double>(rows: n, cols: n) { i, j in eigen.vectors[i, j] * eigen.values[j] }
        XCTAssertLessThan(av.maxAbsDifference(vl), 1e-12)
        let gram = eigen.vectors.multiplied(by: eigen.vectors, transposeSelf: true)
        XCTAssertLessThan(gram.maxAbsDifference(.identity(n)), 1e-12)
        // First eigenvector ∝ sin(jπ/(n+1)), up to sign.
        let first = eigen.vectors.column(0)
        let reference = (1...n).map { sin(Double($0) * Double.pi / Double(n + 1)) }
        let norm = reference.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let sign: Double = first[0] > 0 ? 1 : -1
        for (value, r) in zip(first, reference) { XCTAssertEqual(sign * value, r / norm, accuracy: 1e-12) }
    }

    func testFloatEigenvalues() throws {
        let a = try Matrix<Float>([[2, 1], [1, 2]])
        let eigen = try a.symmetricEigen()
        XCTAssertEqual(eigen.values[0], 1, accuracy: 1e-6)
        XCTAssertEqual(eigen.values[1], 3, accuracy: 1e-6)
    }

    func testThinSVDReconstructsTallAndWideMatrices() throws {
        var rng = SeededRNG(seed: 11)
        for (m, n) in [(9, 4), (4, 9), (6, 6)] {
            let a: Matrix<Double> = rng.normalMatrix(rows: m, cols: n)
            let svd = try a.thinSVD()
            let k = min(m, n)
            XCTAssertEqual(svd.u.rows, m); XCTAssertEqual(svd.u.cols, k)
            XCTAssertEqual(svd.vt.rows, k); XCTAssertEqual(svd.vt.cols, n)
            XCTAssertEqual(svd.singularValues, svd.singularValues.sorted(by: >))
            let us = Matrix<Double>(rows: m, cols: k) { i, j in svd.u[i, j] * svd.singularValues[j] }
            XCTAssertLessThan((us * svd.vt).maxAbsDifference(a), 1e-10, "\(m)×\(n)")
            XCTAssertLessThan(svd.u.multiplied(by: svd.u, transposeSelf: true).maxAbsDifference(.identity(k)), 1e-12)
            XCTAssertLessThan(svd.vt.multiplied(by: svd.vt, transposeOther: true).maxAbsDifference(.identity(k)), 1e-12)
            // σ² are the eigenvalues of AᵀA (or AAᵀ), an independent route to the same numbers.
            let gram = m >= n ? a.multiplied(by: a, transposeSelf: true) : a.multiplied(by: a, transposeOther: true)
            let eigenvalues = try gram.symmetricEigen().values.sorted(by: >)
            for (sigma, lambda) in zip(svd.singularValues, eigenvalues) {
                XCTAssertEqual(sigma * sigma, lambda, accuracy: 1e-10)
            }
        }
    }

    func testDecompositionsRejectBadInput() throws {
        XCTAssertThrowsError(try Matrix<Double>(rows: 2, cols: 3).symmetricEigen())
        let nan = try Matrix<Double>([[1, .nan], [.nan, 1]])
        XCTAssertThrowsError(try nan.symmetricEigen()) { error in
            XCTAssertEqual(error as? LinearAlgebraError, .nonFinite("matrix passed to symmetricEigen"))
        }
        XCTAssertThrowsError(try nan.thinSVD())
    }
}
