import Foundation
import TestSupport
import XCTest

/// `perturbot generate map-benchmark`, and `perturbot validate` on `pipelines/map-estimation.yaml`
/// against data the generator wrote.
final class MapBenchmarkCommandTests: XCTestCase {
    func testGeneratedFileValidatesTheBundledPipeline() throws {
        let folder = try TestPaths.scratchDirectory()
        let data = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let path = data.appendingPathComponent("map-benchmark.h5ad").path
        let generated = try CLI.run(["generate", "map-benchmark", "--dim", "64", "--dim", "128", "--dim", "256", "--seed", "0",
                                     "--source-cells", "30", "--target-cells", "20", "--out", path])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let lines = generated.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "\(path): 30 source + 20 target cells, obs 'condition', seed 0")
        XCTAssertEqual(lines.count, 4, generated.stdout)
        XCTAssertTrue(lines[3].hasPrefix("d = 256: obsm gmm_d256, true_map_d256; Var x = "), lines[3])
        let inspected = try CLI.run(["inspect", path, "--json"])
        XCTAssertEqual(inspected.status, 0, inspected.stderr)
        XCTAssertTrue(inspected.stdout.contains("\"gmm_d128\":[50,128]"), inspected.stdout)
        XCTAssertTrue(inspected.stdout.contains("\"true_map_d256\":[50,256]"), inspected.stdout)

        let pipelines = folder.appendingPathComponent("pipelines")
        try FileManager.default.createDirectory(at: pipelines, withIntermediateDirectories: true)
        let file = pipelines.appendingPathComponent("map-estimation.yaml").path
        let bundled = TestPaths.repository.appendingPathComponent("pipelines/map-estimation.yaml")
        let text = try String(contentsOf: bundled, encoding: .utf8)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        let validated = try CLI.run(["validate", file])
        XCTAssertEqual(validated.status, 0, validated.stderr)
        XCTAssertEqual(validated.stdout, "\(file): ok — 1 drug × 3 feature set(s) without PCA × 3 seed(s) × 6 method(s)\n")
        let dry = try CLI.run(["run", file, "--dry-run"])
        XCTAssertTrue(dry.stdout.hasSuffix("0 cached, 123 to run\n"), dry.stdout)  // 114 + 9 ceiling tasks

        // Without data.true_map, and with a bad pca value: one located line each.
        func write(_ replaced: String, _ replacement: String) throws {
            XCTAssertTrue(text.contains(replaced), replaced)
            try Data(text.replacingOccurrences(of: replaced, with: replacement).utf8).write(to: URL(fileURLWithPath: file))
        }
        try write("  true_map: [true_map_d64, true_map_d128, true_map_d256]\n", "")
        let noTruth = try CLI.run(["validate", file])
        XCTAssertEqual(noTruth.status, 1)
        let metricsLine = try XCTUnwrap(text.split(separator: "\n").firstIndex { $0.hasPrefix("evaluate:") }) // 0-based, one line removed
        XCTAssertEqual(noTruth.stderr, """
            perturbot: error: \(file):\(metricsLine):23: evaluate.metrics: map_mse needs data.true_map (the obsm entry holding each cell's true image T₀(x))
            perturbot: error: \(file):\(metricsLine):32: evaluate.metrics: l2_uvp needs data.true_map (the obsm entry holding each cell's true image T₀(x))

            """)
        try write("pca: none", "pca: off")
        let pcaLine = try XCTUnwrap(text.split(separator: "\n").firstIndex { $0.hasPrefix("pca:") }) + 1
        try CLI.assertOneLineError(["validate", file], ["\(file):\(pcaLine):6: pca must be none or a mapping with key components, got 'off'"])
    }

    func testBadGeneratorOptionsAreOneLineErrors() throws {
        let out = try TestPaths.scratchDirectory().appendingPathComponent("x.h5ad").path
        try CLI.assertOneLineError(["generate", "map-benchmark", "--dim", "4", "--dim", "4", "--out", out],
                                   ["map benchmark: a dimension is listed twice (4, 4)"])
        try CLI.assertOneLineError(["generate", "map-benchmark", "--dim", "0", "--out", out],
                                   ["map benchmark: dimension must be ≥ 1, got 0"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
