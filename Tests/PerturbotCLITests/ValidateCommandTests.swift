import Foundation
import TestSupport
import XCTest

/// `perturbot validate`: ok summary, and every problem as one located error line.
final class ValidateCommandTests: XCTestCase {
    private func pipeline(_ text: String) throws -> String {
        let path = try TestPaths.scratchDirectory().appendingPathComponent("pipeline.yaml").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func text(control: String, drugs: String) -> String {
        """
        name: check
        data: { path: \(TestPaths.fixture("categorical_missing")), condition_key: drug, control: \(control) }
        drugs: \(drugs)
        pca: { components: [2, 4] }
        split: { test_fraction: 0.2, seeds: [0, 1, 2] }
        methods: { id: { solver: identity }, p: { solver: progot, steps: 4 } }
        """
    }

    func testValidPipelineIsSummarised() throws {
        let file = try pipeline(text(control: "control", drugs: "[cisplatin, ixazomib]"))
        let result = try CLI.run(["validate", file])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "\(file): ok — 2 drugs × 2 PCA size(s) × 3 seed(s) × 2 method(s)\n")
    }

    func testEveryProblemIsOneLocatedLine() throws {
        let file = try pipeline(text(control: "DMSO", drugs: "[cisplatin, imatinib]"))
        let result = try CLI.run(["validate", file])
        XCTAssertEqual(result.status, 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, result.stderr)
        XCTAssertTrue(lines[0].hasPrefix("perturbot: error: \(file):2:"), lines[0])
        XCTAssertTrue(lines[0].contains("data.control: no cells labelled 'DMSO'"), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("perturbot: error: \(file):3:20: drugs: no cells labelled 'imatinib'"), lines[1])
    }

    /// 50 genes but 20 control + 2 × 4 treated cells: 40 components cannot all carry variance.
    func testMoreComponentsThanFittedCellsIsOneLine() throws {
        let folder = try TestPaths.scratchDirectory()
        let data = folder.appendingPathComponent("tiny.h5ad").path
        XCTAssertEqual(try CLI.run(["generate", "scrna-like", "--out", data, "--genes", "50", "--control-cells", "20",
                                    "--cells-per-drug", "4"]).status, 0)
        let file = try pipeline("""
            name: tiny
            data: { path: \(data), condition_key: drug, control: control }
            drugs: [belinostat, hesperadin]
            pca: { components: [8, 40] }
            split: { test_fraction: 0.25, seeds: [0] }
            methods: { id: { solver: identity } }
            """)
        try CLI.assertOneLineError(["validate", file], [
            "\(file):4:24: pca.components: 40 components but the PCA is fitted on 28 cells (the control and the selected drugs), so at most 27 carry variance",
        ])
    }

    func testMissingDataFileNamesThePathLine() throws {
        let file = try pipeline(text(control: "control", drugs: "all").replacingOccurrences(
            of: TestPaths.fixture("categorical_missing"), with: "nowhere.h5ad"))
        try CLI.assertOneLineError(["validate", file], ["\(file):2:15: data.path:", "nowhere.h5ad", "no such file"])
        let skipped = try CLI.run(["validate", file, "--skip-data"])
        XCTAssertEqual(skipped.status, 0, skipped.stderr)
    }

    func testBundledPipelinesAreValid() throws {
        let folder = TestPaths.repository.appendingPathComponent("pipelines")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertEqual(files, ["4i.yaml", "demo-neural.yaml", "demo.yaml", "iot-graph.yaml", "map-estimation.yaml", "sciplex-like.yaml", "sciplex.yaml", "scrna-sparsity.yaml"])
        for name in files {
            let result = try CLI.run(["validate", folder.appendingPathComponent(name).path, "--skip-data"])
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
        }
        // The demos' data is bundled, so they are checked against the file too.
        for demo in ["demo.yaml", "demo-neural.yaml"] {
            XCTAssertEqual(try CLI.run(["validate", folder.appendingPathComponent(demo).path]).status, 0, demo)
        }
    }

    func testVarNamesFileLimitsTheFeatures() throws {
        let folder = try TestPaths.scratchDirectory()
        try Data("g0\ng1\n\ng2\n".utf8).write(to: folder.appendingPathComponent("features.txt"))
        let file = folder.appendingPathComponent("pipeline.yaml").path
        try Data(text(control: "control", drugs: "all")
            .replacingOccurrences(of: "control: control }", with: "control: control, var_names: features.txt }")
            .utf8).write(to: URL(fileURLWithPath: file))
        let result = try CLI.run(["validate", file])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("pca.components: 4 components but the features have only 3 dimensions"), result.stderr)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("features.txt"))
        try CLI.assertOneLineError(["validate", file], ["data.var_names: cannot read", "features.txt"])
    }
}
