import Foundation
import TestSupport
import XCTest

/// `perturbot export snakemake`: the Snakefile, and Snakemake running it to the native table.
final class SnakemakeExportTests: XCTestCase {
    private func pipeline(in folder: URL) throws -> String {
        let data = folder.appendingPathComponent("demo.h5ad").path
        let generated = try CLI.run(["generate", "4i-like", "--out", data, "--control-cells", "120",
                                     "--cells-per-drug", "60", "--seed", "5"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let file = folder.appendingPathComponent("smk.yaml").path
        try Data("""
            name: smk
            data: { path: demo.h5ad, condition_key: drug, control: control }
            drugs: [cisplatin, sorafenib]
            pca: { components: [4] }
            split: { test_fraction: 0.25, seeds: [0, 1] }
            methods:
              identity: { solver: identity }
              eot: { solver: eot }
            report: { out: reports/smk }
            """.utf8).write(to: URL(fileURLWithPath: file))
        return file
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
        guard let snakemake = ProcessInfo.processInfo.environment["PERTURBOT_SNAKEMAKE"],
              FileManager.default.isExecutableFile(atPath: snakemake) else {
            if ProcessRunner.isCI { return XCTFail("CI=true but no snakemake (set PERTURBOT_SNAKEMAKE)") }
            throw XCTSkip("snakemake not available; set PERTURBOT_SNAKEMAKE to its executable")
        }
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
        XCTAssertTrue(dry.stdout.hasSuffix("22 cached, 0 to run\n"), dry.stdout)
    }
}
