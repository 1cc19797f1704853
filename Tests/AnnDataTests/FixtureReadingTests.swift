import AnnData
import Foundation
import LinearAlgebra
import TestSupport
import XCTest

/// Every fixture written by anndata (current and 0.7.8) is read and compared with the values
/// anndata itself reported (scripts/fixtures/make_h5ad_fixtures.py).
final class FixtureReadingTests: XCTestCase {
    func testSummaryMatchesAnndataForEveryFixture() throws {
        let names = try TestPaths.fixturesWithInspectExpectation()
        XCTAssertGreaterThanOrEqual(names.count, 8, "fixtures missing: \(names)")
        for name in names {
            let expected = try XCTUnwrap(TestPaths.expectation(name)["inspect"] as? [String: Any])
            let summary = try AnnDataSummary.read(TestPaths.fixture(name))
            XCTAssertEqual(summary.nObs, expected["n_obs"] as? Int, name)
            XCTAssertEqual(summary.nVars, expected["n_vars"] as? Int, name)
            let x = try XCTUnwrap(expected["x"] as? [String: String])
            XCTAssertEqual(summary.xEncoding, x["encoding"], name)
            XCTAssertEqual(summary.xDtype, x["dtype"], name)
            let xSum = try XCTUnwrap(expected["x_sum"] as? Double)
            XCTAssertEqual(summary.xSum, xSum, accuracy: 1e-6 * max(1, abs(xSum)), name)

            let obs = try XCTUnwrap(expected["obs"] as? [String: [String: Any]])
            XCTAssertEqual(Set(summary.obs.map(\.name)), Set(obs.keys), name)
            for column in summary.obs {
                let reference = try XCTUnwrap(obs[column.name])
                XCTAssertEqual(column.type, reference["type"] as? String, "\(name) \(column.name)")
                XCTAssertEqual(column.missing, reference["missing"] as? Int, "\(name) \(column.name)")
                if let categories = reference["categories"] as? [String: Int] {
                    XCTAssertEqual(column.categoryCounts.count, categories.count, "\(name) \(column.name)")
                    for (category, count) in column.categoryCounts {
                        XCTAssertEqual(categories[category], count, "\(name) \(column.name) \(category)")
                    }
                }
            }
            let obsm = try XCTUnwrap(expected["obsm"] as? [String: [Int]])
            XCTAssertEqual(summary.obsm.count, obsm.count, name)
            for (key, shape) in summary.obsm { XCTAssertEqual(obsm[key], shape, "\(name) obsm \(key)") }
        }
    }

    func testValuesMatchAnndataForEveryFixture() throws {
        for name in try TestPaths.fixturesWithInspectExpectation() {
            let reference = try XCTUnwrap(TestPaths.expectation(name)["reference"] as? [String: Any])
            for sparse in [AnnDataReader.SparseHandling.keep, .csr, .densify] {
                let data = try AnnDataReader.read(TestPaths.fixture(name), as: Double.self, sparse: sparse)
                XCTAssertEqual(data.obs.index, reference["obs_names"] as? [String], name)
                XCTAssertEqual(data.var.index, reference["var_names"] as? [String], name)
                let x = try XCTUnwrap(data.X, name).densified()
                try assertMatrix(x, equals: reference["X"], "\(name) X")
                switch (sparse, try XCTUnwrap(data.X)) {
                case (.densify, .sparse): XCTFail("\(name): X not densified")
                case (.csr, .sparse(let matrix)): XCTAssertEqual(matrix.format, .csr, name)
                default: break
                }
                try assertFrame(data.obs, equals: reference["obs"], "\(name) obs")
                try assertFrame(data.var, equals: reference["var"], "\(name) var")
                let obsm = reference["obsm"] as? [String: Any] ?? [:]
                XCTAssertEqual(Set(data.obsm.keys), Set(obsm.keys), name)
                for (key, matrix) in data.obsm { try assertMatrix(matrix, equals: obsm[key], "\(name) obsm \(key)") }
                let layers = reference["layers"] as? [String: Any] ?? [:]
                XCTAssertEqual(Set(data.layers.keys), Set(layers.keys), name)
                for (key, layer) in data.layers {
                    try assertMatrix(layer.densified(), equals: layers[key], "\(name) layer \(key)")
                }
                let uns = reference["uns"] as? [String: Any] ?? [:]
                for (key, value) in uns {
                    switch data.uns[key] {
                    case .string(let s): XCTAssertEqual(s, value as? String, "\(name) uns \(key)")
                    case .integer(let i): XCTAssertEqual(Double(i), (value as? NSNumber)?.doubleValue, "\(name) uns \(key)")
                    case .double(let d): XCTAssertEqual(d, (value as? NSNumber)?.doubleValue, "\(name) uns \(key)")
                    default: XCTFail("\(name): uns \(key) read as \(String(describing: data.uns[key]))")
                    }
                }
            }
        }
    }

    func testSparseLayoutIsKeptAndFloatReadingMatches() throws {
        let csr = try AnnDataReader.read(TestPaths.fixture("csr_f32"), as: Float.self, sparse: .keep)
        guard case .sparse(let matrix) = try XCTUnwrap(csr.X) else { return XCTFail("CSR read densely") }
        XCTAssertEqual(matrix.format, .csr)
        XCTAssertEqual(matrix.indptr.count, csr.nObs + 1)
        XCTAssertEqual(csr.xElementType, "float32")
        let csc = try AnnDataReader.read(TestPaths.fixture("csc_f64"), as: Float.self, sparse: .keep)
        guard case .sparse(let cscMatrix) = try XCTUnwrap(csc.X) else { return XCTFail("CSC read densely") }
        XCTAssertEqual(cscMatrix.format, .csc)
        XCTAssertEqual(cscMatrix.indptr.count, csc.nVars + 1)
        XCTAssertEqual(csc.xElementType, "float64")
        let int32 = try AnnDataReader.read(TestPaths.fixture("dense_int32"), as: Float.self)
        XCTAssertEqual(int32.xElementType, "int32")
    }

    func testCategoricalWithMissingAndUnusedCategory() throws {
        let data = try AnnDataReader.read(TestPaths.fixture("categorical_missing"))
        guard case .categorical(let drug) = try data.obsColumn("drug") else { return XCTFail("drug not categorical") }
        XCTAssertEqual(drug.categories.last, "sorafenib")
        XCTAssertEqual(drug.counts.last, 0)
        XCTAssertEqual(drug.missingCount, 5)
        let legacy = try AnnDataReader.read(TestPaths.fixture("v07_dense"))
        guard case .categorical(let legacyDrug) = try legacy.obsColumn("drug") else {
            return XCTFail("anndata 0.7 categorical not recognised")
        }
        XCTAssertEqual(legacyDrug.missingCount, 4)
    }

    // MARK: helpers

    private func assertMatrix(_ matrix: Matrix<Double>, equals reference: Any?, _ label: String) throws {
        let rows = try XCTUnwrap(reference as? [[Any]], "\(label): no reference")
        XCTAssertEqual(matrix.rows, rows.count, label)
        for (i, row) in rows.enumerated() {
            XCTAssertEqual(matrix.cols, row.count, label)
            for (j, value) in row.enumerated() {
                let expected = try XCTUnwrap((value as? NSNumber)?.doubleValue, "\(label)[\(i),\(j)]")
                // The values are the same IEEE numbers; the slack covers Foundation's JSON number
                // parsing, which is not always correctly rounded in the last bit.
                XCTAssertEqual(matrix[i, j], expected, accuracy: 1e-12 * max(1, abs(expected)), "\(label)[\(i),\(j)]")
            }
        }
    }

    private func assertFrame(_ frame: DataFrame, equals reference: Any?, _ label: String) throws {
        let columns = try XCTUnwrap(reference as? [String: [Any]], "\(label): no reference")
        XCTAssertEqual(Set(frame.columnNames), Set(columns.keys), label)
        for (name, column) in frame.columns {
            let expected = try XCTUnwrap(columns[name])
            XCTAssertEqual(column.count, expected.count, "\(label).\(name)")
            for (i, value) in expected.enumerated() {
                switch column {
                case .categorical(let c):
                    XCTAssertEqual(c[i], value as? String, "\(label).\(name)[\(i)]")
                case .string(let s):
                    XCTAssertEqual(s[i], value as? String, "\(label).\(name)[\(i)]")
                case .integer(let v):
                    XCTAssertEqual(Double(v[i]), (value as? NSNumber)?.doubleValue, "\(label).\(name)[\(i)]")
                case .double(let v):
                    if value is NSNull { XCTAssertTrue(v[i].isNaN, "\(label).\(name)[\(i)]") } else {
                        XCTAssertEqual(v[i], (value as? NSNumber)?.doubleValue, "\(label).\(name)[\(i)]")
                    }
                case .bool(let v):
                    XCTAssertEqual(v[i], (value as? NSNumber)?.boolValue, "\(label).\(name)[\(i)]")
                }
            }
        }
    }
}
