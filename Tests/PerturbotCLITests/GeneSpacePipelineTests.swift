import Foundation
import Reports
import TestSupport
import XCTest

/// `evaluate: {space: both}` end to end on a small sci-Plex-like file: the gene-space tasks are
/// added to a plan whose other tasks stay cached, their rows land in results.csv and table.csv,
/// the report shows the ranked tables and the DE agreement with the true programs' recall, and
/// `perturbot report` rebuilds it from the cache.
final class GeneSpacePipelineTests: XCTestCase {
    func testGeneSpaceScoresJoinTheReportWithoutRerunningTheRest() throws {
        let folder = try TestPaths.scratchDirectory()
        let data = folder.appendingPathComponent("small.h5ad").path
        let generated = try CLI.run(["generate", "scrna-like", "--out", data, "--genes", "120", "--control-cells", "160",
                                     "--cells-per-drug", "60"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let file = folder.appendingPathComponent("genes.yaml").path
        func write(evaluate: String) throws {
            try Data("""
                name: genes
                data: { path: small.h5ad, condition_key: drug, control: control, transform: normalize_log1p, target_sum: 1000,
                        true_programs: perturbot_scrna_like/programs }
                drugs: [belinostat, hesperadin]
                pca: { components: [6] }
                split: { test_fraction: 0.3, seeds: [0, 1] }
                methods:
                  identity: { solver: identity }
                  mean_shift: { solver: mean_shift }
                evaluate: \(evaluate)
                report: { out: report, formats: [markdown, csv] }
                """.utf8).write(to: URL(fileURLWithPath: file))
        }
        try write(evaluate: "{ metrics: [mmd] }")
        let first = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(first.status, 0, first.stderr)
        try write(evaluate: "{ metrics: [mmd], space: both, gene_metrics: [pearson_delta, mse_delta, overlap_at_N, de_nsig_counts_pred, program_recall] }")
        let second = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(second.status, 0, second.stderr)
        // Only the gene_score tasks run: 2 seeds × 2 methods at one d.
        XCTAssertTrue(second.stdout.contains("4 task(s) run"), second.stdout)

        let report = folder.appendingPathComponent("report")
        let results = try String(contentsOf: report.appendingPathComponent("results.csv"), encoding: .utf8)
        let rows = try ResultsReport.parseResultsCSV(results)
        let recall = rows.filter { $0.metric == "program_recall (genes)" }
        XCTAssertEqual(recall.filter { $0.method == "(real cells)" }.count, 2 * 2, "drugs × seeds")
        // The identity moves nothing: its predicted DE is empty, so it recalls nothing.
        XCTAssertTrue(recall.filter { $0.method == "identity" }.allSatisfy { $0.value == 0 })
        XCTAssertTrue(rows.filter { $0.method == "identity" && $0.metric == "de_nsig_counts_pred (genes)" }.allSatisfy { $0.value == 0 })
        XCTAssertTrue(recall.filter { $0.method == "mean_shift" }.contains { $0.value > 0 })
        let table = try String(contentsOf: report.appendingPathComponent("table.csv"), encoding: .utf8)
        XCTAssertTrue(table.contains("belinostat,mean_shift,6,pearson_delta (genes),"), table)
        let markdown = try String(contentsOf: report.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("## pearson_delta (genes) — higher is better"))
        XCTAssertTrue(markdown.contains("## mse_delta (genes)\n"))
        XCTAssertTrue(markdown.contains("## Differential expression agreement (gene space)"))
        XCTAssertTrue(markdown.contains("| (real cells) | 6 |"))
        XCTAssertTrue(markdown.contains("**Gene space.**"))

        // The report is a function of the cache.
        try FileManager.default.removeItem(at: report)
        let rebuilt = try CLI.run(["report", file])
        XCTAssertEqual(rebuilt.status, 0, rebuilt.stderr)
        XCTAssertEqual(try String(contentsOf: report.appendingPathComponent("table.csv"), encoding: .utf8), table)
    }
}
