import Foundation
import TestSupport
import XCTest

/// Runs the built `perturbot` binary, as a user would.
final class InspectCommandTests: XCTestCase {
    private func run(_ arguments: [String]) throws -> ProcessResult { try CLI.run(arguments) }

    func testJSONMatchesAnndataForEveryFixture() throws {
        for name in try TestPaths.fixturesWithInspectExpectation() {
            let result = try run(["inspect", TestPaths.fixture(name), "--json"])
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            XCTAssertEqual(result.stderr, "", name)
            let printed = try XCTUnwrap(
                JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], name)
            let expected = try XCTUnwrap(TestPaths.expectation(name)["inspect"] as? [String: Any])
            try assertInspectJSON(printed, matches: expected, name)
        }
    }

    /// scanpy's own bundled file (anndata 0.6 layout) is described as anndata 0.12 reports it
    /// (Tests/Fixtures/scanpy/pbmc68k_reduced.json, scripts/fixtures/make_legacy_h5ad_fixtures.py).
    func testScanpyBundledPBMCFileMatchesAnndata() throws {
        guard let file = ScanpyBundledFile.pbmc68kReduced() else {
            if ProcessRunner.isCI { return XCTFail(ScanpyBundledFile.skipReason) }
            throw XCTSkip(ScanpyBundledFile.skipReason)
        }
        let result = try run(["inspect", file, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let printed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let expected = try XCTUnwrap(ScanpyBundledFile.expectation()["inspect"] as? [String: Any])
        try assertInspectJSON(printed, matches: expected, "pbmc68k_reduced")
        let text = try run(["inspect", file])
        XCTAssertTrue(text.stdout.contains("layout  anndata 0.6 (compound datasets)"), text.stdout)
        XCTAssertTrue(text.stdout.contains("raw     700 obs × 765 vars, X csr float32"), text.stdout)
    }

    /// Every key anndata's description has is printed with the same value (X's sum to 1e-6
    /// relative: perturbot sums in Double); older fixtures describe fewer keys.
    private func assertInspectJSON(_ printed: [String: Any], matches expected: [String: Any], _ name: String) throws {
        let always: Set<String> = ["n_obs", "n_vars", "x", "obs", "obsm", "x_sum", "var", "varm", "layout"]
        XCTAssertEqual(Set(printed.keys), always.union(printed["raw"] == nil ? [] : ["raw"]), name)
        let xSum = try XCTUnwrap(expected["x_sum"] as? Double)
        XCTAssertEqual(try XCTUnwrap(printed["x_sum"] as? Double), xSum, accuracy: 1e-6 * max(1, abs(xSum)), name)
        var exact = printed.filter { expected[$0.key] != nil }, reference = expected
        exact["x_sum"] = nil
        reference["x_sum"] = nil
        XCTAssertEqual(NSDictionary(dictionary: exact), NSDictionary(dictionary: reference), name)
        if expected["varm"] != nil { XCTAssertEqual(printed["raw"] != nil, expected["raw"] != nil, name) }
    }

    /// JSON objects are unordered once parsed, so order is checked on the text: the file's
    /// category order (not alphabetical: control before cisplatin; the unused category last).
    func testCategoryOrderIsTheFilesOrder() throws {
        let result = try run(["inspect", TestPaths.fixture("categorical_missing"), "--json", "--obs", "drug"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains(
            #""categories":{"control":7,"cisplatin":9,"ixazomib":8,"melphalan":7,"sorafenib":0},"missing":5"#),
            result.stdout)
        XCTAssertFalse(result.stdout.contains("\"batch\""), "--obs keeps only the named column")
    }

    func testTextSummary() throws {
        let result = try run(["inspect", TestPaths.fixture("v07_csr")])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("40 obs × 20 vars"), result.stdout)
        XCTAssertTrue(result.stdout.contains("X       csr float32"), result.stdout)
        XCTAssertTrue(result.stdout.contains("drug  categorical, 4 categories, 0 missing"), result.stdout)
    }

    /// Every bad input: exit status 1, nothing on stdout, one `perturbot: error:` line on
    /// stderr that names the file and what is wrong.
    func testErrorsAreOneLineNamingFileAndElement() throws {
        let scratch = try TestPaths.scratchDirectory()
        let text = scratch.appendingPathComponent("table.h5ad").path
        try Data("not,hdf5\n1,2\n".utf8).write(to: URL(fileURLWithPath: text))
        let truncated = try TestPaths.truncatedCopy(of: "csr_f32", fraction: 0.6, in: scratch)
        let missing = scratch.appendingPathComponent("absent.h5ad").path
        let cases: [(arguments: [String], fragments: [String])] = [
            (["inspect", missing], [missing, "no such file"]),
            (["inspect", text], [text, "not an HDF5 file"]),
            (["inspect", truncated], [truncated, "truncated", "HDF5:"]),
            (["inspect", TestPaths.fixture("no_x")], [TestPaths.fixture("no_x"), ": X:", "missing"]),
            (["inspect", TestPaths.fixture("dense_f32"), "--obs", "condition"],
             [TestPaths.fixture("dense_f32"), "obs", "no column 'condition'", "drug"]),
            (["inspect", TestPaths.fixture("unsupported_encoding")],
             [TestPaths.fixture("unsupported_encoding"), ": X:", "unsupported encoding 'coo_matrix'"]),
        ]
        for (arguments, fragments) in cases { try CLI.assertOneLineError(arguments, fragments) }
    }
}
