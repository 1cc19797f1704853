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

            try Self.assertColumns(summary.obs, equal: expected["obs"], "\(name) obs")
            let obsm = try XCTUnwrap(expected["obsm"] as? [String: [Int]])
            XCTAssertEqual(summary.obsm.count, obsm.count, name)
            for (key, shape) in summary.obsm { XCTAssertEqual(obsm[key], shape, "\(name) obsm \(key)") }
            // The fixtures written since var, varm, raw and the layout were described carry them.
            if let variables = expected["var"] {
                try Self.assertColumns(summary.variables, equal: variables, "\(name) var")
            }
            if let varm = expected["varm"] as? [String: [Int]] {
                XCTAssertEqual(summary.varm.count, varm.count, name)
                for (key, shape) in summary.varm { XCTAssertEqual(varm[key], shape, "\(name) varm \(key)") }
            }
            if let raw = expected["raw"] as? [String: Any] {
                XCTAssertEqual(summary.raw?.nVars, raw["n_vars"] as? Int, "\(name) raw")
                let x = try XCTUnwrap(raw["x"] as? [String: String])
                XCTAssertEqual(summary.raw?.xEncoding, x["encoding"], "\(name) raw")
                XCTAssertEqual(summary.raw?.xDtype, x["dtype"], "\(name) raw")
            } else if expected["varm"] != nil {
                XCTAssertNil(summary.raw, "\(name): anndata found no raw")
            }
            if let layout = expected["layout"] as? String { XCTAssertEqual(summary.layout, layout, name) }
        }
    }

    /// anndata 0.6 files (obs/var/obsm as compound datasets, categories in uns) are read as
    /// anndata 0.12 reads them: the `_categories` entries become the columns' categories and
    /// leave uns; raw comes from `raw.X`/`raw.var`.
    func testAnndata06LayoutCategoriesAndRaw() throws {
        let data = try AnnDataReader.read(TestPaths.fixture("v06_dense"), as: Double.self)
        guard case .categorical(let drug) = try data.obsColumn("drug") else { return XCTFail("drug not categorical") }
        XCTAssertEqual(drug.categories, ["control", "cisplatin", "ixazomib"])
        XCTAssertEqual(drug.missingCount, 2)
        XCTAssertEqual(data.obs.indexName, "index")
        XCTAssertNil(data.uns["drug_categories"])
        XCTAssertFalse(data.skippedElements.contains { $0.contains("drug_categories") }, "\(data.skippedElements)")
        let raw = try XCTUnwrap(data.raw)
        XCTAssertEqual(raw.var.index.suffix(3), ["EXTRA1", "EXTRA2", "EXTRA3"])
        XCTAssertEqual(raw.X.rows, data.nObs)
        XCTAssertEqual(try XCTUnwrap(data.obsm["X_pca"]).cols, 4)

        let csr = try AnnDataReader.read(TestPaths.fixture("v06_csr"), as: Float.self, sparse: .keep)
        guard case .categorical = try XCTUnwrap(csr.var["chromosome"]) else { return XCTFail("var categorical not applied") }
        XCTAssertNil(csr.raw)
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
                if let raw = reference["raw"] as? [String: Any] {
                    let rawData = try XCTUnwrap(data.raw, "\(name): raw not read")
                    XCTAssertEqual(rawData.var.index, raw["var_names"] as? [String], name)
                    let sum = try XCTUnwrap(raw["x_sum"] as? Double)
                    XCTAssertEqual(rawData.X.densified().storage.reduce(0, +), sum, accuracy: 1e-9 * max(1, abs(sum)), name)
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

    /// scanpy's own file, value by value against what anndata 0.12 read from it.
    func testScanpyBundledPBMCValuesMatchAnndata() throws {
        guard let file = ScanpyBundledFile.pbmc68kReduced() else {
            if ProcessRunner.isCI { return XCTFail(ScanpyBundledFile.skipReason) }
            throw XCTSkip(ScanpyBundledFile.skipReason)
        }
        let reference = try XCTUnwrap(ScanpyBundledFile.expectation()["reference"] as? [String: Any])
        let data = try AnnDataReader.read(file, as: Double.self, sparse: .keep)
        XCTAssertEqual(data.obs.index, reference["obs_names"] as? [String])
        XCTAssertEqual(data.var.index, reference["var_names"] as? [String])
        try assertFrame(data.obs, equals: reference["obs"], "pbmc obs")
        try assertFrame(data.var, equals: reference["var"], "pbmc var")
        let rowSums = try XCTUnwrap(reference["x_row_sums"] as? [Double])
        let x = try XCTUnwrap(data.X).densified()
        for i in 0..<x.rows {
            let sum = (0..<x.cols).reduce(0.0) { $0 + x[i, $1] }
            XCTAssertEqual(sum, rowSums[i], accuracy: 1e-9 * max(1, abs(rowSums[i])), "X row \(i)")
        }
        let obsm = try XCTUnwrap(reference["obsm"] as? [String: [String: Any]])
        XCTAssertEqual(Set(data.obsm.keys), Set(obsm.keys))
        for (key, matrix) in data.obsm {
            let expected = try XCTUnwrap(obsm[key])
            let sum = try XCTUnwrap(expected["sum"] as? Double)
            XCTAssertEqual(matrix.storage.reduce(0, +), sum, accuracy: 1e-9 * max(1, abs(sum)), key)
            let firstRow = try XCTUnwrap(expected["first_row"] as? [Double], key)
            XCTAssertEqual(firstRow.count, matrix.cols, key)
            for (j, value) in firstRow.enumerated() {
                XCTAssertEqual(matrix[0, j], value, accuracy: 1e-12 * max(1e-300, abs(value)), "\(key)[0, \(j)]")
            }
        }
        let raw = try XCTUnwrap(reference["raw"] as? [String: Any])
        let rawData = try XCTUnwrap(data.raw)
        XCTAssertEqual(rawData.var.index, raw["var_names"] as? [String])
        guard case .sparse(let rawX) = rawData.X else { return XCTFail("raw.X should stay CSR") }
        let rawSum = try XCTUnwrap(raw["x_sum"] as? Double)
        XCTAssertEqual(rawX.data.reduce(0, +), rawSum, accuracy: 1e-9 * abs(rawSum))
    }

    // MARK: helpers

    static func assertColumns(_ columns: [AnnDataSummary.ObsColumn], equal reference: Any?, _ label: String) throws {
        let expected = try XCTUnwrap(reference as? [String: [String: Any]], "\(label): no reference")
        XCTAssertEqual(Set(columns.map(\.name)), Set(expected.keys), label)
        for column in columns {
            let described = try XCTUnwrap(expected[column.name], "\(label) \(column.name)")
            XCTAssertEqual(column.type, described["type"] as? String, "\(label) \(column.name)")
            XCTAssertEqual(column.missing, described["missing"] as? Int, "\(label) \(column.name)")
            if let categories = described["categories"] as? [String: Int] {
                XCTAssertEqual(column.categoryCounts.count, categories.count, "\(label) \(column.name)")
                for (category, count) in column.categoryCounts {
                    XCTAssertEqual(categories[category], count, "\(label) \(column.name) \(category)")
                }
            }
        }
    }

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
                        // Same IEEE numbers; the slack covers Foundation's JSON number parsing.
                        let expected = try XCTUnwrap((value as? NSNumber)?.doubleValue, "\(label).\(name)[\(i)]")
                        XCTAssertEqual(v[i], expected, accuracy: 1e-12 * max(1e-300, abs(expected)), "\(label).\(name)[\(i)]")
                    }
                case .bool(let v):
                    XCTAssertEqual(v[i], (value as? NSNumber)?.boolValue, "\(label).\(name)[\(i)]")
                }
            }
        }
    }

    /// obs and var without the matrices are those of a whole read, in the 0.6 layout (categories
    /// from uns) and the current one.
    func testAnnotationsAloneMatchAWholeRead() throws {
        for name in ["v06_dense", "categorical_missing", "csr_f32"] {
            let whole = try AnnDataReader.read(TestPaths.fixture(name), as: Float.self, requireX: false)
            let annotations = try AnnDataReader.readAnnotations(TestPaths.fixture(name))
            XCTAssertNil(annotations.X, name)
            XCTAssertEqual(annotations.obs, whole.obs, name)
            XCTAssertEqual(annotations.var, whole.var, name)
        }
    }
}
