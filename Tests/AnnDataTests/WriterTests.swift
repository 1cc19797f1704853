import AnnData
import Foundation
import LinearAlgebra
import TestSupport
import XCTest

final class WriterTests: XCTestCase {
    /// A small AnnData with every kind of element the writer supports.
    private func sample() throws -> AnnData<Float> {
        var rng = SeededRNG(seed: 21)
        let n = 12, d = 5
        let x: Matrix<Float> = rng.normalMatrix(rows: n, cols: d)
        var obs = DataFrame(index: (0..<n).map { "cell_\($0)" })
        try obs.setColumn("drug", .categorical(Categorical(values: (0..<n).map {
            $0 == 3 ? nil : ["control", "cisplatin", "ixazomib"][$0 % 3]
        })))
        try obs.setColumn("well", .string((0..<n).map { "W\($0 % 4)" }))
        try obs.setColumn("n_counts", .double((0..<n).map { Double($0) * 1.5 }))
        try obs.setColumn("plate", .integer((0..<n).map { Int64($0 / 4) }))
        try obs.setColumn("is_control", .bool((0..<n).map { $0 % 3 == 0 }))
        var variables = DataFrame(index: ["Ki67_nuc", "pRB_nuc", "CyclinB1_cyto", "p21_nuc", "DAPI_nuc"])
        try variables.setColumn("symbol", .string(["MKI67", "RB1", "CCNB1", "CDKN1A", "DAPI"]))
        return AnnData(
            X: .dense(x), obs: obs, var: variables,
            obsm: ["X_pca": rng.normalMatrix(rows: n, cols: 2)],
            uns: ["title": .string("perturbot round trip"), "n_drugs": .integer(3), "scale": .double(0.5)])
    }

    func testRoundTripThroughOwnReader() throws {
        let original = try sample()
        let path = try TestPaths.scratchDirectory().appendingPathComponent("round.h5ad").path
        try AnnDataWriter.write(original, to: path)
        var back = try AnnDataReader.read(path, as: Float.self)
        XCTAssertEqual(back.skippedElements, [])
        back.skippedElements = original.skippedElements
        back.source = nil
        XCTAssertEqual(back, original)
        // Writing over an existing file replaces it and leaves no temporary behind.
        try AnnDataWriter.write(original, to: path)
        let siblings = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
        XCTAssertEqual(siblings, ["round.h5ad"])
    }

    /// The pipeline cache keys a data file by its bytes, so the same data written twice must give
    /// the same file (HDF5 stamps object headers with the time of writing unless told not to).
    func testSameDataWrittenTwiceGivesIdenticalBytes() throws {
        let original = try sample()
        let folder = try TestPaths.scratchDirectory()
        let first = folder.appendingPathComponent("first.h5ad").path
        let second = folder.appendingPathComponent("second.h5ad").path
        try AnnDataWriter.write(original, to: first)
        Thread.sleep(forTimeInterval: 1.1)  // object header times have a resolution of one second
        try AnnDataWriter.write(original, to: second)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: first)),
                       try Data(contentsOf: URL(fileURLWithPath: second)))
    }

    func testSparseRoundTrip() throws {
        var data = try sample()
        let dense = try XCTUnwrap(data.X).densified()
        var values: [Float] = [], indices: [Int32] = [], indptr = [0]
        for i in 0..<dense.rows {
            for j in 0..<dense.cols where dense[i, j] > 0.5 {
                values.append(dense[i, j]); indices.append(Int32(j))
            }
            indptr.append(values.count)
        }
        data.X = .sparse(try SparseMatrix(format: .csr, rows: dense.rows, cols: dense.cols,
                                          data: values, indices: indices, indptr: indptr))
        let path = try TestPaths.scratchDirectory().appendingPathComponent("sparse.h5ad").path
        try AnnDataWriter.write(data, to: path)
        let back = try AnnDataReader.read(path, as: Float.self, sparse: .keep)
        XCTAssertEqual(back.X, data.X)
    }

    func testFailedWriteLeavesNothing() throws {
        let directory = try TestPaths.scratchDirectory()
        let path = directory.appendingPathComponent("missing-dir/out.h5ad").path
        XCTAssertThrowsError(try AnnDataWriter.write(try sample(), to: path)) { error in
            XCTAssertEqual((error as? AnnDataError)?.kind, .writeFailed)
            XCTAssertTrue("\(error)".hasPrefix(path), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [])
    }

    /// anndata (the real library) reads back exactly what perturbot wrote. CI installs anndata
    /// and sets PERTURBOT_PYTHON; there a missing anndata is a failure, elsewhere a skip.
    func testAnndataReadsWhatWeWrite() throws {
        guard let python = ProcessRunner.pythonWithAnndata() else {
            if ProcessRunner.isCI { return XCTFail("CI=true but no python with anndata (set PERTURBOT_PYTHON)") }
            throw XCTSkip("python with anndata not available; set PERTURBOT_PYTHON")
        }
        let original = try sample()
        let path = try TestPaths.scratchDirectory().appendingPathComponent("for-anndata.h5ad").path
        try AnnDataWriter.write(original, to: path)
        let result = try ProcessRunner.run(python, [ProcessRunner.h5adWorker, "describe", path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let described = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let reference = try XCTUnwrap(described["reference"] as? [String: Any])
        XCTAssertEqual(reference["obs_names"] as? [String], original.obs.index)
        XCTAssertEqual(reference["var_names"] as? [String], original.var.index)
        assertClose(reference["X"], try XCTUnwrap(original.X).densified(), "X")
        let obs = try XCTUnwrap(reference["obs"] as? [String: [Any]])
        XCTAssertEqual(Array(obs.keys).sorted(), original.obs.columnNames.sorted())
        guard case .categorical(let drug) = try original.obsColumn("drug") else { return XCTFail() }
        XCTAssertEqual(obs["drug"]?.map { $0 as? String }, (0..<original.nObs).map { drug[$0] })
        XCTAssertEqual(obs["well"] as? [String], (0..<original.nObs).map { "W\($0 % 4)" })
        XCTAssertEqual(obs["n_counts"] as? [Double], (0..<original.nObs).map { Double($0) * 1.5 })
        XCTAssertEqual(obs["plate"] as? [Int], (0..<original.nObs).map { $0 / 4 })
        XCTAssertEqual(obs["is_control"] as? [Bool], (0..<original.nObs).map { $0 % 3 == 0 })
        let variables = try XCTUnwrap(reference["var"] as? [String: [Any]])
        XCTAssertEqual(variables["symbol"] as? [String], ["MKI67", "RB1", "CCNB1", "CDKN1A", "DAPI"])
        let obsm = try XCTUnwrap(reference["obsm"] as? [String: Any])
        assertClose(obsm["X_pca"], try XCTUnwrap(original.obsm["X_pca"]), "obsm X_pca")
        let uns = try XCTUnwrap(reference["uns"] as? [String: Any])
        XCTAssertEqual(uns["title"] as? String, "perturbot round trip")
        XCTAssertEqual(uns["n_drugs"] as? Int, 3)
        XCTAssertEqual(uns["scale"] as? Double, 0.5)
        let inspect = try XCTUnwrap(described["inspect"] as? [String: Any])
        let obsTypes = try XCTUnwrap(inspect["obs"] as? [String: [String: Any]])
        XCTAssertEqual(obsTypes["drug"]?["type"] as? String, "categorical")
        XCTAssertEqual(obsTypes["drug"]?["missing"] as? Int, 1)
        XCTAssertEqual(obsTypes["well"]?["type"] as? String, "string")
        XCTAssertEqual(obsTypes["is_control"]?["type"] as? String, "bool")
    }

    /// Same numbers, up to Foundation's JSON number parsing (not always correctly rounded).
    private func assertClose(_ reference: Any?, _ matrix: Matrix<Float>, _ label: String, line: UInt = #line) {
        guard let rows = reference as? [[Double]], rows.count == matrix.rows,
              rows.allSatisfy({ $0.count == matrix.cols }) else {
            return XCTFail("\(label): shape differs from \(matrix.rows)×\(matrix.cols)", line: line)
        }
        for i in 0..<matrix.rows {
            for j in 0..<matrix.cols {
                let expected = Double(matrix[i, j])
                XCTAssertEqual(rows[i][j], expected, accuracy: 1e-12 * max(1, abs(expected)), "\(label)[\(i),\(j)]", line: line)
            }
        }
    }
}
