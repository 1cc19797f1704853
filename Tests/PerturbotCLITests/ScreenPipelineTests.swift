import AnnData
import Foundation
import LinearAlgebra
import Reports
import TestSupport
import XCTest

/// A screen in a pipeline: `condition_key: [drug, dose]` and `context_key: cell_line` on a small
/// `generate screen` file — one problem per (cell line, drug, dose), each against its own line's
/// vehicle cells, a `context` column in the CSV files, `drugs` entries with and without a context,
/// and validation messages that name the column and value.
final class ScreenPipelineTests: XCTestCase {
    private func screen(_ folder: URL, drugs: Int = 3, genes: Int = 50) throws -> String {
        let data = folder.appendingPathComponent("screen.h5ad").path
        let generated = try CLI.run(["generate", "screen", "--out", data, "--cell-lines", "2", "--drugs", "\(drugs)", "--doses", "2",
                                     "--cells-per-condition", "20", "--control-cells-per-line", "60", "--genes", "\(genes)"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        return data
    }

    private func pipeline(_ folder: URL, drugs: String = "all", data: String = "condition_key: [drug, dose], context_key: cell_line, control: vehicle",
                          extraMethod: String = "") throws -> String {
        let file = folder.appendingPathComponent("screen.yaml").path
        try Data("""
            name: screen
            data: { path: screen.h5ad, \(data), transform: normalize_log1p }
            drugs: \(drugs)
            pca: { components: [6] }
            split: { test_fraction: 0.3, seeds: [0] }
            methods:
              identity: { solver: identity }
              mean_shift: { solver: mean_shift }
              \(extraMethod)
            evaluate: { metrics: [sinkhorn_divergence, mean_l2] }
            report: { out: report, formats: [markdown, csv] }
            """.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    func testEveryContextAndDoseIsOneProblemWithItsOwnControls() throws {
        let folder = try TestPaths.scratchDirectory()
        _ = try screen(folder)
        let file = try pipeline(folder)
        let dryRun = try CLI.run(["run", file, "--dry-run"])
        XCTAssertEqual(dryRun.status, 0, dryRun.stderr)
        let splits = dryRun.stdout.split(separator: "\n").filter { $0.contains(" split/") }.map { String($0.split(separator: " ").last ?? "") }
        XCTAssertEqual(splits, ["A549", "K562"].flatMap { line in
            ["drug001", "drug002", "drug003"].flatMap { drug in ["10", "100"].map { "split/\(line)/\(drug)_\($0)/seed0" } }
        })
        let run = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = folder.appendingPathComponent("report")
        let results = try String(contentsOf: report.appendingPathComponent("results.csv"), encoding: .utf8)
        XCTAssertTrue(results.hasPrefix("context,drug,d_pca,method,seed,metric,value,converged,seconds\nA549,drug001_10,6,identity,0,"), results)
        let table = try String(contentsOf: report.appendingPathComponent("table.csv"), encoding: .utf8)
        XCTAssertTrue(table.hasPrefix("context,drug,method,d_pca,metric,"), table)
        let rows = try ResultsReport.parseResultsCSV(results)
        XCTAssertEqual(Set(rows.map(\.drug)).count, 12)
        XCTAssertTrue(rows.contains { $0.drug == "K562/drug003_100" })
        // The unmoved control differs by line: each problem is measured against its own line's vehicle cells.
        let unmoved = rows.filter { $0.method == ResultsReport.unmoved && $0.metric == "mean_l2 (half sample)" }
        XCTAssertEqual(unmoved.count, 12)
        XCTAssertEqual(Set(unmoved.map(\.value)).count, 12)

        // The cache at a glance: one line per stage.
        let listing = try CLI.run(["cache", "ls", file, "--summary"])
        XCTAssertEqual(listing.status, 0, listing.stderr)
        let lines = listing.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "stage        tasks    cached   missing  size")
        XCTAssertTrue(lines.contains { $0.hasPrefix("split           12        12         0  ") }, listing.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("evaluate        24        24         0  ") }, listing.stdout)
        XCTAssertEqual(lines.last, "unused entries: 0 (0 B; `perturbot cache gc` removes them)")
        let solves = try CLI.run(["cache", "ls", file, "--stage", "solve"])
        XCTAssertEqual(solves.stdout.split(separator: "\n").count, 24)
        try CLI.assertOneLineError(["cache", "ls", file, "--stage", "fit"], ["--stage: no task of stage 'fit'", "solve"])

        // A condition without a context is that condition in every context; with one, that problem.
        let listed = try pipeline(folder, drugs: "[drug002_100, K562/drug001_10]")
        let planned = try CLI.run(["run", listed, "--dry-run"])
        XCTAssertEqual(planned.status, 0, planned.stderr)
        let listedSplits = planned.stdout.split(separator: "\n").filter { $0.contains(" split/") }.compactMap { $0.split(separator: " ").last }
        XCTAssertEqual(listedSplits, ["split/A549/drug002_100/seed0", "split/K562/drug002_100/seed0", "split/K562/drug001_10/seed0"])
        XCTAssertTrue(planned.stdout.contains("cached  split/K562/drug002_100/seed0"), "the same problem keeps its key: \(planned.stdout)")
    }

    /// The screen summary: per context the methods' mean rank and normalised score, a heatmap
    /// and dose-response curves; beyond 50 conditions no per-condition Markdown tables.
    func testScreenReportSummarisesPerContextAndKeepsConditionsInCSV() throws {
        let folder = try TestPaths.scratchDirectory()
        let data = folder.appendingPathComponent("screen.h5ad").path
        let generated = try CLI.run(["generate", "screen", "--out", data, "--cell-lines", "2", "--drugs", "13", "--doses", "2",
                                     "--cells-per-condition", "20", "--control-cells-per-line", "60", "--genes", "50"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let file = try pipeline(folder, extraMethod: "untuned: { solver: untuned }")
        try Data(String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(of: "formats: [markdown, csv]", with: "formats: [markdown, csv, svg]").utf8)
            .write(to: URL(fileURLWithPath: file))
        let run = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = folder.appendingPathComponent("report")
        let markdown = try String(contentsOf: report.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("## Screen summary (sinkhorn_divergence, d = 6)\n\n52 conditions in 2 contexts."), markdown)
        XCTAssertTrue(markdown.contains("### A549\n\n26 conditions, "), markdown)
        XCTAssertTrue(markdown.contains("| method | mean rank | best or ≈ | median normalised | normalised, 25–75 % |"))
        XCTAssertTrue(markdown.contains("![K562 heatmap](screen_K562_heatmap.svg)"))
        XCTAssertTrue(markdown.contains("The 52 conditions' own tables"), "beyond 50 conditions the tables are in table.csv")
        XCTAssertFalse(markdown.contains("### A549/drug001_10"), "no per-condition Markdown table")
        let files = try FileManager.default.contentsOfDirectory(atPath: report.path)
        XCTAssertTrue(files.contains("screen_A549_heatmap.svg"))
        XCTAssertEqual(files.filter { $0.hasPrefix("screen_A549_") && $0.hasSuffix("_dose_response.svg") }.count, 6, "six strongest drugs")
        XCTAssertFalse(files.contains { $0.hasSuffix("_scatter.svg") }, "no per-condition figures: \(files)")
        let table = try String(contentsOf: report.appendingPathComponent("table.csv"), encoding: .utf8)
        XCTAssertEqual(table.split(separator: "\n").filter { $0.hasSuffix(",sinkhorn_divergence") || $0.contains(",sinkhorn_divergence,") }.count,
                       52 * 3, "every condition × method in table.csv")
        // The heatmap has one cell per condition and method.
        let heatmap = try String(contentsOf: report.appendingPathComponent("screen_K562_heatmap.svg"), encoding: .utf8)
        XCTAssertEqual(heatmap.components(separatedBy: "<title>").count - 1, 26 * 3)
        // steps.csv (untuned's Sinkhorn runs) splits the problem id as results.csv does.
        let steps = try String(contentsOf: report.appendingPathComponent("steps.csv"), encoding: .utf8)
        XCTAssertTrue(steps.hasPrefix("context,drug,d,seed,method,role,"), steps)
        XCTAssertTrue(steps.contains("\nK562,drug013_100,6,0,untuned,"), steps)
    }

    /// The exported Snakefile has rules for a screen's `<context>/<condition>` tasks and gives
    /// the native table (CI installs snakemake; elsewhere a skip).
    /// Counts stored as CSR stay CSR in the load entry (the three scipy arrays, no dense
    /// features.npy), and every number downstream is the one the same counts stored dense give.
    func testSparseCountsGiveTheTablesOfTheDenseFile() throws {
        let folder = try TestPaths.scratchDirectory()
        let data = try screen(folder, drugs: 2, genes: 200)  // ~46 % of the counts stored: kept as CSR
        let file = try pipeline(folder)
        func table(cache: String) throws -> (table: String, files: Set<String>) {
            let run = try CLI.run(["run", file, "--quiet", "--cache", folder.appendingPathComponent(cache).path])
            XCTAssertEqual(run.status, 0, run.stderr)
            let entries = try FileManager.default.subpathsOfDirectory(atPath: folder.appendingPathComponent(cache).path)
            return (try String(contentsOf: folder.appendingPathComponent("report/table.csv"), encoding: .utf8),
                    Set(entries.map { URL(fileURLWithPath: $0).lastPathComponent }.filter { $0.hasPrefix("features") }))
        }
        let sparse = try table(cache: "sparse-cache")
        XCTAssertEqual(sparse.files, ["features.data.npy", "features.indices.npy", "features.indptr.npy"])
        let dense = try AnnDataReader.read(data, as: Float.self, sparse: .densify)
        guard case .dense? = dense.X else { return XCTFail("X not densified") }
        try AnnDataWriter.write(dense, to: data + ".dense")
        try FileManager.default.removeItem(atPath: data)
        try FileManager.default.moveItem(atPath: data + ".dense", toPath: data)
        let fromDense = try table(cache: "dense-cache")
        XCTAssertEqual(fromDense.files, ["features.npy"])
        XCTAssertEqual(fromDense.table, sparse.table)
    }

    func testSnakemakeRunsAScreenWithContexts() throws {
        guard let snakemake = try CLI.snakemake() else { return }
        let native = try TestPaths.scratchDirectory()
        _ = try screen(native)
        XCTAssertEqual(try CLI.run(["run", try pipeline(native), "--quiet"]).status, 0)
        let folder = try TestPaths.scratchDirectory()
        _ = try screen(folder)
        let file = try pipeline(folder)
        let workflow = folder.appendingPathComponent("workflow")
        try FileManager.default.createDirectory(at: workflow, withIntermediateDirectories: true)
        let snakefile = workflow.appendingPathComponent("Snakefile")
        XCTAssertEqual(try CLI.run(["export", "snakemake", file, "-o", snakefile.path]).status, 0)
        let text = try String(contentsOf: snakefile, encoding: .utf8)
        XCTAssertTrue(text.contains("rule solve_in_context:"), text)
        XCTAssertFalse(text.contains("\nrule solve:\n"), "no rule without contexts is needed")
        let run = try ProcessRunner.run(snakemake, ["--cores", "2", "--directory", workflow.path, "--snakefile", snakefile.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("report/table.csv")),
                       try Data(contentsOf: native.appendingPathComponent("report/table.csv")))
    }

    func testValidationNamesTheColumnAndValue() throws {
        let folder = try TestPaths.scratchDirectory()
        _ = try screen(folder)
        func refused(_ file: String, _ fragment: String, line: UInt = #line) throws {
            let result = try CLI.run(["validate", file])
            XCTAssertNotEqual(result.status, 0, line: line)
            XCTAssertTrue(result.stderr.contains(fragment), result.stderr, line: line)
        }
        try refused(pipeline(folder, data: "condition_key: [drug, dose], context_key: line, control: vehicle"),
                    "data.context_key: no obs column 'line' in the data (obs has: cell_line, drug, dose, cell_state)")
        try refused(pipeline(folder, data: "condition_key: [drug, amount], context_key: cell_line, control: vehicle"),
                    "data.condition_key: no obs column 'amount'")
        try refused(pipeline(folder, data: "condition_key: [drug, dose], context_key: cell_line, control: dmso"),
                    "data.control: no cells with obs 'drug' = 'dmso' (conditions: vehicle_0, drug001_10,")
        try refused(pipeline(folder, data: "condition_key: [drug, dose], context_key: drug, control: vehicle"),
                    "data.context_key: 'drug' is also a condition column")
        try refused(pipeline(folder, drugs: "[drug009_10]"), "drugs: no cells of 'drug009_10'; expected a condition (as drug001_10)")
        try refused(pipeline(folder, drugs: "[MCF7/drug001_10]"), "drugs: no cells of 'MCF7/drug001_10'")
        // A context without vehicle cells of its own.
        var obs = DataFrame(index: (0..<8).map { "c\($0)" })
        try obs.setColumn("drug", .categorical(Categorical(values: ["vehicle", "vehicle", "a", "a", "a", "a", "vehicle", "a"])))
        try obs.setColumn("dose", .double([0, 0, 1, 1, 1, 1, 0, 1]))
        try obs.setColumn("cell_line", .categorical(Categorical(values: ["L1", "L1", "L1", "L1", "L2", "L2", "L2", "L2"])))
        let x = Matrix<Float>(rows: 8, cols: 3) { i, j in Float(i + j) }
        try AnnDataWriter.write(AnnData(X: .dense(x), obs: obs, var: DataFrame(index: ["g1", "g2", "g3"])),
                                to: folder.appendingPathComponent("screen.h5ad").path)
        try refused(pipeline(folder), "data.control: context 'L2' (obs 'cell_line') has 1 control cells ('drug' = 'vehicle'); each context needs at least 2")
    }
}
