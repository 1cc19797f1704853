import Foundation
import TestSupport
import XCTest

/// `perturbot export snakemake`: the Snakefile, and Snakemake running it to the native table.
final class SnakemakeExportTests: XCTestCase {
    private func pipeline(in folder: URL) throws -> String {
        try CLI.smallPipeline(in: folder, name: "smk", drugs: ["cisplatin", "sorafenib"], components: [4],
                              methods: ["identity: { solver: identity }", "eot: { solver: eot }"],
                              controlCells: 120, drugCells: 60, dataSeed: 5)
    }

    func testSnakefileHasOneRulePerStageWithTheGridsWildcards() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder)
        let snakefile = folder.appendingPathComponent("Snakefile").path
        let export = try CLI.run(["export", "snakemake", file, "-o", snakefile])
        XCTAssertEqual(export.status, 0, export.stderr)
        let text = try String(contentsOfFile: snakefile, encoding: .utf8)
        for rule in ["all", "report", "load", "pca", "split", "solve", "evaluate"] {
            XCTAssertTrue(text.contains("\nrule \(rule):\n"), rule)
        }
        XCTAssertFalse(text.contains("rule load_features:") || text.contains("rule inverse_ot:"))
        XCTAssertTrue(text.contains("output: touch(f\"{MARKS}/solve/{{drug}}/d{{d}}/seed{{seed}}/{{method}}.done\")"), text)
        XCTAssertTrue(text.contains("\"solve/sorafenib/d4/seed1/eot\": [\"pca/d4\", \"split/sorafenib/seed1\"],"), text)
        XCTAssertTrue(text.contains("run-task {PIPELINE:q} --task {params.task:q}"), text)
        try CLI.assertOneLineError(["export", "snakemake", folder.appendingPathComponent("missing.yaml").path, "-o", snakefile],
                                   ["missing.yaml"])
    }

    /// CI installs snakemake and sets PERTURBOT_SNAKEMAKE; there a missing snakemake is a
    /// failure, elsewhere a skip.
    func testSnakemakeProducesTheNativeTable() throws {
        guard let snakemake = try CLI.snakemake() else { return }
        let native = try TestPaths.scratchDirectory()
        let nativeFile = try pipeline(in: native)
        XCTAssertEqual(try CLI.run(["run", nativeFile, "--quiet"]).status, 0)

        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder)
        let workflow = folder.appendingPathComponent("workflow")
        try FileManager.default.createDirectory(at: workflow, withIntermediateDirectories: true)
        XCTAssertEqual(try CLI.run(["export", "snakemake", file, "-o", workflow.appendingPathComponent("Snakefile").path]).status, 0)
        let run = try ProcessRunner.run(snakemake, ["--cores", "2", "--directory", workflow.path,
                                                    "--snakefile", workflow.appendingPathComponent("Snakefile").path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let expected = try Data(contentsOf: native.appendingPathComponent("reports/smk/table.csv"))
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("reports/smk/table.csv")), expected)
        // Every task ran once, against the same cache as `perturbot run`: nothing is left to do.
        let dry = try CLI.run(["run", file, "--dry-run"])
        XCTAssertTrue(dry.stdout.hasSuffix("26 cached, 0 to run\n"), dry.stdout)  // 22 + 4 ceiling tasks
    }
}
