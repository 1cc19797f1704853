import AnnData
import Foundation
import TestSupport
import XCTest

/// `perturbot generate scrna-like`: the file it writes, and that pipelines/sciplex-like.yaml
/// validates against it.
final class GenerateScRNALikeCommandTests: XCTestCase {
    func testWritesSparseCountsThatTheSciplexLikePipelineAccepts() throws {
        let folder = try TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("sciplex-like.h5ad").path
        let result = try CLI.run(["generate", "scrna-like", "--out", data, "--genes", "300", "--control-cells", "200",
                                  "--cells-per-drug", "60", "--seed", "4"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix("\(data): 500 cells × 300 genes, "), result.stdout)
        XCTAssertTrue(result.stdout.hasSuffix("drugs: belinostat, dacinostat, givinostat, hesperadin, quisinostat\n"), result.stdout)

        let written = try AnnDataReader.read(data, as: Float.self, sparse: .keep)
        guard case .sparse(let x)? = written.X else { return XCTFail("X is not sparse") }
        XCTAssertEqual(x.format, .csr)
        XCTAssertEqual([x.rows, x.cols], [500, 300])
        XCTAssertTrue(x.data.allSatisfy { $0 >= 1 && $0 == $0.rounded() }, "raw integer counts")
        XCTAssertLessThan(x.nonzeroCount, 500 * 300 / 2, "most counts are zero")
        guard case .categorical(let drug)? = written.obs["drug"] else { return XCTFail("no categorical obs 'drug'") }
        XCTAssertEqual(drug.counts, [200, 60, 60, 60, 60, 60])
        XCTAssertEqual(written.var.index.prefix(2), ["GENE0001", "GENE0002"])

        // The bundled pipeline, pointed at this file.
        let bundled = TestPaths.repository.appendingPathComponent("pipelines/sciplex-like.yaml")
        let text = try String(contentsOf: bundled, encoding: .utf8)
        XCTAssertTrue(text.contains("path: ../data/sciplex-like.h5ad"))
        let pipeline = folder.appendingPathComponent("sciplex-like.yaml").path
        try Data(text.replacingOccurrences(of: "path: ../data/sciplex-like.h5ad", with: "path: sciplex-like.h5ad").utf8)
            .write(to: URL(fileURLWithPath: pipeline))
        let validated = try CLI.run(["validate", pipeline])
        XCTAssertEqual(validated.status, 0, validated.stderr)
        XCTAssertEqual(validated.stdout, "\(pipeline): ok — 5 drugs × 3 PCA size(s) × 3 seed(s) × 8 method(s)\n")

        // Too few genes for d_PCA 256: the pipeline names the problem.
        let small = try CLI.run(["generate", "scrna-like", "--out", data, "--genes", "100", "--control-cells", "20",
                                 "--cells-per-drug", "10"])
        XCTAssertEqual(small.status, 0, small.stderr)
        let refused = try CLI.run(["validate", pipeline])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("pca.components: 256 components but the features have only 100 dimensions"),
                      refused.stderr)
    }

    func testBadOptionsAreOneErrorLine() throws {
        let out = try TestPaths.scratchDirectory().appendingPathComponent("x.h5ad").path
        try CLI.assertOneLineError(["generate", "scrna-like", "--out", out, "--genes", "10"], ["at least 50 genes"])
        try CLI.assertOneLineError(["generate", "scrna-like", "--out", out, "--cells-per-drug", "1"],
                                   ["at least 2 control cells and 2 cells per drug"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
