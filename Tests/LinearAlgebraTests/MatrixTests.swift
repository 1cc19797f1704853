import LinearAlgebra
import XCTest

final class MatrixTests: XCTestCase {
    func testShapeIsChecked() {
        XCTAssertThrowsError(try Matrix<Double>(rows: 2, cols: 3, storage: [1, 2, 3])) { error in
            XCTAssertEqual(error as? LinearAlgebraError,
                           .shapeMismatch("3 values cannot form a 2×3 matrix"))
        }
        XCTAssertThrowsError(try Matrix<Float>([[1, 2], [3]])) { error in
            XCTAssertEqual(error as? LinearAlgebraError, .raggedRows(row: 1, expected: 2, found: 1))
        }
    }

    func testRowMajorLayoutAndTranspose() throws {
        let m = try Matrix<Double>([[1, 2, 3], [4, 5, 6]])
        XCTAssertEqual(m.storage, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(Array(m.row(1)), [4, 5, 6])
        XCTAssertEqual(m.column(2), [3, 6])
        XCTAssertEqual(m.transposed.nestedRows, [[1, 4], [2, 5], [3, 6]])
        XCTAssertEqual(m.rows(at: [1, 0, 1]).nestedRows, [[4, 5, 6], [1, 2, 3], [4, 5, 6]])
    }

    func testProductMatchesNaiveLoopInBothPrecisions() throws {
        var rng = SeededRNG(seed: 3)
        let a: Matrix<Double> = rng.normalMatrix(rows: 7, cols: 5)
        let b: Matrix<Double> = rng.normalMatrix(rows: 5, cols: 4)
        let naive = Matrix<Double>(rows: 7, cols: 4) { i, j in
            (0..<5).reduce(0.0) { $0 + a[i, $1] * b[$1, j] }
        }
        XCTAssertLessThan((a * b).maxAbsDifference(naive), 1e-12)
        let viaTransposes = a.transposed.multiplied(by: b.transposed, transposeSelf: true, transposeOther: true)
        XCTAssertLessThan(viaTransposes.maxAbsDifference(naive), 1e-12)
        let single = a.converted(to: Float.self) * b.converted(to: Float.self)
        XCTAssertLessThan(single.converted(to: Double.self).maxAbsDifference(naive), 1e-5)
    }

    func testProductWithEmptyInnerDimensionIsZero() {
        let a = Matrix<Double>(rows: 3, cols: 0)
        let b = Matrix<Double>(rows: 0, cols: 2)
        XCTAssertEqual(a * b, Matrix<Double>(rows: 3, cols: 2))
    }

    func testColumnMeansAndCentering() throws {
        let m = try Matrix<Float>([[1, 10], [3, 20], [5, 60]])
        XCTAssertEqual(m.columnMeans(), [3, 30])
        let (centered, means) = m.centeredColumns()
        XCTAssertEqual(means, [3, 30])
        XCTAssertEqual(centered.nestedRows, [[-2, -20], [0, -10], [2, 30]])
        XCTAssertEqual(centered.columnMeans(), [0, 0])
    }

    func testCodableRoundTripChecksShape() throws {
        let m = try Matrix<Double>([[1, 2], [3, 4]])
        let decoded = try JSONDecoder().decode(Matrix<Double>.self, from: JSONEncoder().encode(m))
        XCTAssertEqual(decoded, m)
        let bad = Data(#"{"rows":2,"cols":2,"storage":[1,2,3]}"#.utf8)
        XCTAssertThrowsError(try JSONDecoder().decode(Matrix<Double>.self, from: bad))
        let older = Data(#"{"rows":2,"cols":2,"storage":[1,2,3,4]}"#.utf8)
        XCTAssertEqual(try JSONDecoder().decode(Matrix<Double>.self, from: older), m, "the number-array encoding still reads")
        let floats = try Matrix<Float>([[0.1, -3e-38], [.greatestFiniteMagnitude, 7]])
        XCTAssertEqual(try JSONDecoder().decode(Matrix<Float>.self, from: JSONEncoder().encode(floats)), floats, "bit-exact")
        let short = Data(#"{"rows":2,"cols":2,"bytes":"AAAAAAAAAAA="}"#.utf8)
        XCTAssertThrowsError(try JSONDecoder().decode(Matrix<Double>.self, from: short))
        XCTAssertThrowsError(try JSONDecoder().decode(Matrix<Float>.self, from: Data(#"{"rows":1,"cols":1,"bytes":"%%"}"#.utf8)))
    }

    func testAllFiniteFindsEveryNonFiniteValue() throws {
        XCTAssertTrue(try Matrix<Float>(rows: 3, cols: 2, storage: [0, -1, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, 2]).allFinite)
        XCTAssertTrue(Matrix<Double>(rows: 0, cols: 4).allFinite)
        for bad in [Double.nan, .infinity, -.infinity] {
            for position in 0..<5 {
                var values = [Double](repeating: 1, count: 5)
                values[position] = bad
                XCTAssertFalse(try Matrix<Double>(rows: 1, cols: 5, storage: values).allFinite, "\(bad) at \(position)")
                XCTAssertFalse(try Matrix<Float>(rows: 5, cols: 1, storage: values.map(Float.init)).allFinite)
            }
        }
    }
}
