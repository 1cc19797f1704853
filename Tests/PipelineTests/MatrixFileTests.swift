import Foundation
import AnnData
import LinearAlgebra
@testable import Pipeline
import Stages
import TestSupport
import XCTest

/// Matrices in cache entries: `.npy` files read whole or by rows, and entries whose files are
/// damaged.
final class MatrixFileTests: XCTestCase {
    func testRoundTripRowsAndTheNumpyHeader() throws {
        let matrix = Matrix<Float>(rows: 5, cols: 3) { i, j in Float(i * 10 + j) + 0.5 }
        let data = MatrixFile.encode(matrix)
        // NumPy's format 1.0: magic, version, little-endian header length, data on a 64-byte boundary.
        XCTAssertEqual(Array(data.prefix(8)), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (5, 3), }"), header)
        XCTAssertTrue(header.hasSuffix("\n"))
        XCTAssertEqual(try MatrixFile.decode(data, name: "m"), matrix)
        let picked = try MatrixFile.rows(of: data, at: [4, 0, 2], name: "m")
        XCTAssertEqual(picked, matrix.rows(at: [4, 0, 2]))
        XCTAssertThrowsError(try MatrixFile.rows(of: data, at: [5], name: "m")) {
            XCTAssertTrue("\($0)".contains("row 5 asked of a matrix of 5 rows"), "\($0)")
        }
        XCTAssertThrowsError(try MatrixFile.decode(data.dropLast(4), name: "m")) {
            XCTAssertTrue("\($0)".contains("m: not a float32 C-order .npy matrix"), "\($0)")
        }
        let empty = Matrix<Float>(rows: 0, cols: 4)
        XCTAssertEqual(try MatrixFile.decode(MatrixFile.encode(empty), name: "e"), empty)
    }

    func testEntriesRecordSizesAndADamagedFileIsNamed() throws {
        let cache = TaskCache(root: try TestPaths.scratchDirectory())
        try cache.store("k", task: "load", stage: "load", files: ["a.json": Data("{}".utf8), "m.npy": MatrixFile.encode(Matrix(rows: 2, cols: 2))])
        XCTAssertEqual(cache.manifest("k")?.sizes?["a.json"], 2)
        XCTAssertEqual(try cache.read("k", file: "a.json"), Data("{}".utf8))
        // The same size, other bytes: the entry still counts, and reading the file says it is damaged.
        try Data("[]".utf8).write(to: cache.entryURL("k").appendingPathComponent("a.json"))
        XCTAssertTrue(cache.contains("k"))
        XCTAssertThrowsError(try cache.read("k", file: "a.json")) {
            XCTAssertTrue("\($0)".contains("a.json does not match its digest (damaged)"), "\($0)")
        }
        // Truncated: the entry no longer counts, so its task runs again.
        try Data("{".utf8).write(to: cache.entryURL("k").appendingPathComponent("a.json"))
        XCTAssertFalse(cache.contains("k"))
    }
    /// A load entry's labels as int32 codes: values in order of first appearance, −1 for none,
    /// read back by column and scanned for a condition within a context.
    func testLabelCodesRoundTripAndScan() throws {
        let conditions = StageFiles.coded(["vehicle", "a_1", nil, "a_1", "vehicle", "b_1"])
        XCTAssertEqual(conditions.values, ["vehicle", "a_1", "b_1"])
        XCTAssertEqual(conditions.codes, [0, 1, -1, 1, 0, 2])
        let contexts = StageFiles.coded(["L1", "L1", "L1", "L2", "L2", nil])
        let codes = try LabelCodes(LabelCodes.encode([conditions.codes, contexts.codes]), name: "labels.npy")
        XCTAssertEqual(codes.rows, 6)
        XCTAssertEqual(codes.columns, 2)
        XCTAssertEqual(codes.column(0), conditions.codes)
        XCTAssertEqual(codes.column(1), contexts.codes)
        XCTAssertEqual(codes.column(2), [Int32](repeating: -1, count: 6), "an absent column reads as no value")
        XCTAssertEqual(codes.rows(where: 1, column: 0), [1, 3])
        XCTAssertEqual(codes.rows(where: 1, column: 0, and: (1, 1)), [3], "a_1 in L2 only")
        XCTAssertEqual(codes.rows(where: 0, column: 0, and: (1, 0)), [0], "L1's own vehicle cell")
        let labels = StageFiles.Labels(
            file: StageFiles.LoadedLabels(conditionValues: conditions.values, contextValues: contexts.values, holdoutValues: nil,
                                          featureNames: ["g"], rows: 6, cols: 1, hasTrueMap: false),
            codes: codes)
        XCTAssertEqual(labels.conditions, ["vehicle", "a_1", nil, "a_1", "vehicle", "b_1"])
        XCTAssertEqual(labels.contexts, ["L1", "L1", "L1", "L2", "L2", nil])
        XCTAssertNil(labels.holdoutGroups)
        XCTAssertEqual(labels.cells(labelled: "vehicle", context: "L2"), [4])
        XCTAssertEqual(labels.cells(labelled: "c_1"), [], "an unknown label has no cells")
        XCTAssertThrowsError(try LabelCodes(Data("not npy".utf8), name: "x")) { XCTAssertTrue("\($0)".contains("x: not an int32")) }
    }

    /// A CSR matrix as the three scipy arrays in an entry: 1-D `.npy` headers, rows made dense
    /// from the memory-mapped files, and a damaged index named.
    func testCSRFilesRoundTripByRows() throws {
        let cache = TaskCache(root: try TestPaths.scratchDirectory())
        let sparse = try SparseMatrix<Float>(format: .csr, rows: 4, cols: 5, data: [1.5, -2, 3, 4.25],
                                             indices: [4, 0, 2, 1], indptr: [0, 2, 2, 3, 4])
        try cache.store("k", task: "load", stage: "load", files: EntryFiles(prepared: try CSRFile.write(sparse, name: "features", cache: cache)))
        let indptr = try cache.read("k", file: "features.indptr.npy")
        let headerLength = Int(indptr[8]) | Int(indptr[9]) << 8
        XCTAssertTrue(String(decoding: indptr[10..<(10 + headerLength)], as: UTF8.self)
            .hasPrefix("{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }"))
        let mapped = try MappedCSR(cache: cache, key: "k", name: "features", rows: 4, cols: 5)
        XCTAssertEqual(try mapped.rows(at: [3, 1, 0, 2]), sparse.densified().rows(at: [3, 1, 0, 2]))
        XCTAssertThrowsError(try MappedCSR(cache: cache, key: "k", name: "features", rows: 5, cols: 5)) {
            XCTAssertTrue("\($0)".contains("features of entry k: data [4], indices [4] and indptr [5] do not make a CSR matrix of 5 rows"), "\($0)")
        }
        let damaged = try SparseMatrix<Float>(format: .csr, rows: 1, cols: 9, data: [1], indices: [7], indptr: [0, 1])
        try cache.store("d", task: "load", stage: "load", files: EntryFiles(prepared: try CSRFile.write(damaged, name: "features", cache: cache)))
        XCTAssertThrowsError(try MappedCSR(cache: cache, key: "d", name: "features", rows: 1, cols: 5).rows(at: [0])) {
            XCTAssertTrue("\($0)".contains("features of entry d: sparse matrix row 0 stores column 7, outside 0..<5"), "\($0)")
        }
    }
}
