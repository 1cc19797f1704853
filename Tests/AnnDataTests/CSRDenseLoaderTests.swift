@testable import AnnData
import Foundation
import LinearAlgebra
import TestSupport
import XCTest

final class CSRDenseLoaderTests: XCTestCase {
    /// Small blocks force many read/scatter rounds, empty rows and a block boundary inside
    /// every few rows; the result must equal the plain densification of the same CSR matrix.
    func testBlockwiseLoadEqualsDensifiedSparse() throws {
        var rng = SeededRNG(seed: 17)
        let rows = 257, cols = 31
        var values: [Double] = [], indices: [Int32] = [], indptr = [0]
        for row in 0..<rows {
            if row % 10 != 3 {
                for column in 0..<cols where rng.uniform() < 0.2 {
                    values.append(rng.normal()); indices.append(Int32(column))
                }
            }
            indptr.append(values.count)
        }
        let sparse = try SparseMatrix(format: .csr, rows: rows, cols: cols, data: values, indices: indices, indptr: indptr)
        var obs = DataFrame(index: (0..<rows).map { "c\($0)" })
        try obs.setColumn("group", .string((0..<rows).map { "g\($0 % 3)" }))
        let data = AnnData<Double>(X: .sparse(sparse), obs: obs, var: DataFrame(index: (0..<cols).map { "f\($0)" }))
        let path = try TestPaths.scratchDirectory().appendingPathComponent("csr.h5ad").path
        try AnnDataWriter.write(data, to: path)

        let expected = sparse.densified()
        for block in [1, 7, 64, 10_000] {
            let loaded = try HDF5Library.withLock { () throws -> Matrix<Double> in
                let x = try XCTUnwrap(try H5File.openRoot(path).child("X"))
                return try CSRDenseLoader.load(x, rows: rows, cols: cols, as: Double.self, entriesPerBlock: block)
            }
            XCTAssertEqual(loaded, expected, "entries per block \(block)")
        }
        let viaReader = try AnnDataReader.read(path, as: Float.self, sparse: .densify)
        XCTAssertEqual(viaReader.X, .dense(expected.converted(to: Float.self)))
    }
}

final class SparseConversionTests: XCTestCase {
    func testCSCToCSRKeepsEveryEntry() throws {
        // [[1, 0, 2], [0, 0, 3], [4, 5, 0], [0, 0, 0]] stored by columns.
        let csc = try SparseMatrix<Double>(format: .csc, rows: 4, cols: 3,
                                           data: [1, 4, 5, 2, 3], indices: [0, 2, 2, 0, 1], indptr: [0, 2, 3, 5])
        let csr = csc.csr()
        XCTAssertEqual(csr.format, .csr)
        XCTAssertEqual(csr.indptr, [0, 2, 3, 5, 5])
        XCTAssertEqual(csr.indices, [0, 2, 2, 0, 1])
        XCTAssertEqual(csr.data, [1, 2, 3, 4, 5])
        XCTAssertEqual(csr.densified(), csc.densified())
        XCTAssertEqual(csr.densified().nestedRows, [[1, 0, 2], [0, 0, 3], [4, 5, 0], [0, 0, 0]])
    }
}
