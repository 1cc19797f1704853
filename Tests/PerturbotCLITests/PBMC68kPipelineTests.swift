import Foundation
import TestSupport
import XCTest

/// pipelines/pbmc68k.yaml on scanpy's own bundled file (real cells, anndata 0.6 layout), cut to
/// one seed. CI installs scanpy, so there it runs; elsewhere it skips when scanpy is absent.
final class PBMC68kPipelineTests: XCTestCase {
    func testBundledPipelineRunsOnScanpysFile() throws {
        guard let file = ScanpyBundledFile.pbmc68kReduced() else {
            if ProcessRunner.isCI { return XCTFail(ScanpyBundledFile.skipReason) }
            throw XCTSkip(ScanpyBundledFile.skipReason)
        }
        let folder = try TestPaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bundled = try String(contentsOf: TestPaths.repository.appendingPathComponent("pipelines/pbmc68k.yaml"), encoding: .utf8)
        var text = bundled
        for (from, to) in [("path: ../data/pbmc68k_reduced.h5ad", "path: \(file)"),
                           ("seeds: [0, 1, 2]", "seeds: [0]"),
                           ("out: ../reports/pbmc68k", "out: report")] {
            XCTAssertTrue(text.contains(from), "pipelines/pbmc68k.yaml no longer has '\(from)'")
            text = text.replacingOccurrences(of: from, with: to)
        }
        let pipeline = folder.appendingPathComponent("pbmc68k.yaml")
        try Data(text.utf8).write(to: pipeline)

        let validated = try CLI.run(["validate", pipeline.path])
        XCTAssertEqual(validated.status, 0, validated.stderr)
        let run = try CLI.run(["run", pipeline.path, "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("0 failed"), run.stdout)

        // One row per cell type × feature space × method; entropic OT moves monocytes closer
        // to every target type than leaving them in place does, in both feature spaces.
        let table = try String(contentsOf: folder.appendingPathComponent("report/table.csv"), encoding: .utf8)
        var divergence: [String: Double] = [:]
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 5, fields[3] == "sinkhorn_divergence", let mean = Double(fields[4]) else { continue }
            divergence["\(fields[0])|\(fields[2])|\(fields[1])"] = mean
        }
        XCTAssertEqual(divergence.count, 3 * 2 * 6, table)
        for type in ["Dendritic", "CD19+ B", "CD8+ Cytotoxic T"] {
            for d in ["765", "50"] {
                let eot = try XCTUnwrap(divergence["\(type)|\(d)|eot"])
                let identity = try XCTUnwrap(divergence["\(type)|\(d)|identity"])
                XCTAssertLessThan(eot, identity, "\(type) d \(d)")
            }
        }
    }
}
