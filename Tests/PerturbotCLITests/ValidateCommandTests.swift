import AnnData
import Foundation
import LinearAlgebra
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

    /// 50 genes but 20 control + 2 × 10 treated cells: 45 components cannot all carry variance.
    func testMoreComponentsThanFittedCellsIsOneLine() throws {
        let folder = try TestPaths.scratchDirectory()
        let data = folder.appendingPathComponent("tiny.h5ad").path
        XCTAssertEqual(try CLI.run(["generate", "scrna-like", "--out", data, "--genes", "50", "--control-cells", "20",
                                    "--cells-per-drug", "10"]).status, 0)
        let file = try pipeline("""
            name: tiny
            data: { path: \(data), condition_key: drug, control: control }
            drugs: [belinostat, hesperadin]
            pca: { components: [4, 45] }
            split: { test_fraction: 0.25, seeds: [0] }
            methods: { id: { solver: identity } }
            """)
        try CLI.assertOneLineError(["validate", file], [
            "\(file):4:24: pca.components: 45 components but the PCA is fitted on 40 cells (the control and the selected drugs), so at most 39 carry variance",
        ])
        // 10 cells with a quarter held out leave 7 to fit: 8 components ask for more dimensions
        // than those cells span (a note; it still runs); the control's 15 training cells are enough.
        let split = try pipeline(try String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(of: "[4, 45]", with: "[4, 8]"))
        let noted = try CLI.run(["validate", split])
        XCTAssertEqual(noted.status, 0, noted.stderr)
        XCTAssertEqual(noted.stderr, "perturbot: \(split):4:24: note: pca.components: 8 components but with test_fraction 0.25 each split fits on fewer cells than that for 'belinostat' (10 cells, 7 to fit), 'hesperadin' (10 cells, 7 to fit); those cells span fewer dimensions than the map is fitted in\n")
    }

    /// The feature values: NaN/infinite values and an all-constant X fail with the features
    /// named and counted; a few constant features only get a note.
    func testFeatureValuesAreChecked() throws {
        let folder = try TestPaths.scratchDirectory()
        func write(_ name: String, lastLabel: String = "cisplatin", _ value: (Int, Int) -> Float) throws -> String {
            let n = 12, d = 4
            var x = Matrix<Float>(rows: n, cols: d)
            for i in 0..<n { for j in 0..<d { x[i, j] = value(i, j) } }
            let obs = try { () throws -> DataFrame in
                var frame = DataFrame(index: (0..<n).map { "cell\($0)" })
                try frame.setColumn("drug", .categorical(Categorical(values: (0..<n).map {
                    $0 < 6 ? "control" : ($0 == n - 1 ? lastLabel : "cisplatin")
                })))
                return frame
            }()
            let path = folder.appendingPathComponent("\(name).h5ad").path
            try AnnDataWriter.write(AnnData(X: .dense(x), obs: obs, var: DataFrame(index: ["Ki67", "pRB", "p21", "DAPI"])), to: path)
            return path
        }
        func pipelineFor(_ data: String) throws -> String {
            try pipeline("""
                name: values
                data: { path: \(data), condition_key: drug, control: control }
                drugs: [cisplatin]
                pca: { components: [2] }
                split: { test_fraction: 0.25, seeds: [0] }
                methods: { id: { solver: identity } }
                """)
        }
        let nonFinite = try pipelineFor(write("nan") { i, j in
            j == 1 && i < 2 ? .nan : (j == 3 && i == 5 ? .infinity : Float(i * 4 + j))
        })
        try CLI.assertOneLineError(["validate", nonFinite], [
            "\(nonFinite):2:", "data.features: X has 3 NaN or infinite values in 2 features (pRB: 2, DAPI: 1)",
        ])
        let constant = try pipelineFor(write("constant") { _, j in Float(j) })
        try CLI.assertOneLineError(["validate", constant], ["data.features: all 4 features of X are constant over the 12 cells"])
        let someConstant = try pipelineFor(write("some") { i, j in j == 2 ? 7 : Float(i * j) })
        // A label with a single cell cannot be split.
        let lone = try pipelineFor(write("lone", lastLabel: "melphalan") { i, j in Float(i * 4 + j) })
        let loneText = try String(contentsOfFile: lone, encoding: .utf8).replacingOccurrences(of: "[cisplatin]", with: "[cisplatin, melphalan]")
        try Data(loneText.utf8).write(to: URL(fileURLWithPath: lone))
        try CLI.assertOneLineError(["validate", lone], [
            "\(lone):3:20: split: 'melphalan' has 1 cell; a split needs at least 2 of each label (one to fit, one to test)",
        ])
        let result = try CLI.run(["validate", someConstant])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("note: data.features: X has 2 constant features (Ki67, p21); they carry no signal"),
                      result.stderr)
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
        XCTAssertEqual(files, ["4i.yaml", "demo-neural.yaml", "demo.yaml", "iot-graph.yaml", "map-estimation.yaml", "pbmc68k.yaml", "sciplex-like.yaml", "sciplex.yaml", "screen-tenth.yaml", "screen.yaml", "scrna-sparsity.yaml", "unbalanced.yaml"])
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
