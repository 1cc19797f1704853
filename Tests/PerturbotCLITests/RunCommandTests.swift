import AnnData
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Reports
import TestSupport
import XCTest

/// `perturbot run` end to end on a small generated dataset: caching, kill -9 and resume,
/// a failing solver, and report tables that match results.csv.
final class RunCommandTests: XCTestCase {
    private func pipeline(in folder: URL, methods: String, drugCells: Int = 80, out: String = "reports/small",
                          savePredictions: Bool = false) throws -> String {
        let data = folder.appendingPathComponent("demo.h5ad").path
        if !FileManager.default.fileExists(atPath: data) {
            let generated = try CLI.run(["generate", "4i-like", "--out", data, "--control-cells", "160",
                                         "--cells-per-drug", "\(drugCells)", "--seed", "2"])
            XCTAssertEqual(generated.status, 0, generated.stderr)
        }
        let file = folder.appendingPathComponent("small.yaml").path
        try Data("""
            name: small
            data: { path: demo.h5ad, condition_key: drug, control: control }
            drugs: [cisplatin, sorafenib]
            pca: { components: [4, 8] }
            split: { test_fraction: 0.25, seeds: [0, 1] }
            methods:
            \(methods)
            report: { out: \(out), save_predictions: \(savePredictions) }
            """.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    private let methods = """
          identity: { solver: identity }
          mean_shift: { solver: mean_shift }
          eot: { solver: eot }
          progot: { solver: progot, steps: 3 }
        """

    private func taskCounts(_ output: String) -> (ran: Int, reused: Int) {
        let line = output.split(separator: "\n").first { $0.contains("task(s) run") } ?? ""
        let numbers = line.split(separator: " ").compactMap { Int($0) }
        return (numbers.first ?? -1, numbers.dropFirst().first ?? -1)
    }

    func testSecondRunReusesEverythingAndEditingOneMethodRerunsOnlyIt() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder, methods: methods)
        let first = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(first.status, 0, first.stderr)
        // 1 load + 2 pca + 4 splits + 2 drugs × 2 d × 2 seeds × (4 methods × (solve + evaluate) + 1 ceiling)
        XCTAssertEqual(taskCounts(first.stdout).ran, 79)
        let second = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(taskCounts(second.stdout).ran, 0)
        XCTAssertEqual(taskCounts(second.stdout).reused, 79)

        _ = try pipeline(in: folder, methods: methods.replacingOccurrences(of: "steps: 3", with: "steps: 2"))
        let dry = try CLI.run(["run", file, "--dry-run"])
        let toRun = dry.stdout.split(separator: "\n").filter { $0.hasPrefix("to-run") }
        XCTAssertEqual(toRun.count, 16, dry.stdout)
        XCTAssertTrue(toRun.allSatisfy { $0.hasSuffix("/progot") }, dry.stdout)
        let third = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(taskCounts(third.stdout).ran, 16)
    }

    func testKilledRunResumesToTheSameTables() throws {
        let reference = try TestPaths.scratchDirectory()
        let referenceFile = try pipeline(in: reference, methods: methods)
        XCTAssertEqual(try CLI.run(["run", referenceFile, "--quiet"]).status, 0)

        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder, methods: methods)
        let cache = folder.appendingPathComponent(".perturbot-cache")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.path)
        process.arguments = ["run", file, "--quiet"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Kill it once part of the work is done.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: cache.path))?.filter { !$0.hasPrefix(".") } ?? []
            if entries.count >= 20 { break }
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal, "the run finished before it could be killed")

        let resumed = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertGreaterThan(taskCounts(resumed.stdout).reused, 0)
        func read(_ base: URL, _ name: String) throws -> String {
            try String(contentsOf: base.appendingPathComponent("reports/small/\(name)"), encoding: .utf8)
        }
        XCTAssertEqual(try read(folder, "table.csv"), try read(reference, "table.csv"))
        // results.csv agrees except for the timing column.
        func withoutSeconds(_ text: String) -> [String] {
            text.split(separator: "\n").map { $0.split(separator: ",").dropLast().joined(separator: ",") }
        }
        XCTAssertEqual(withoutSeconds(try read(folder, "results.csv")), withoutSeconds(try read(reference, "results.csv")))
    }

    func testFailingSolverIsReportedAndOthersGoOn() throws {
        let folder = try TestPaths.scratchDirectory()
        // 6 cells per drug: 4 train targets, too few to hold any out for tuning ε.
        let file = try pipeline(in: folder, methods: methods, drugCells: 6)
        let result = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("task(s) failed or were skipped"), result.stderr)
        let report = try String(contentsOf: folder.appendingPathComponent("reports/small/report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("- `solve/cisplatin/d4/seed0/eot`: tuning epsilon needs at least 1 held-out"), report)
        XCTAssertTrue(report.contains("- `evaluate/cisplatin/d4/seed0/eot`: skipped: input solve/cisplatin/d4/seed0/eot failed"), report)
        XCTAssertTrue(report.contains("| eot | failed | failed |"), report)
        let results = try String(contentsOf: folder.appendingPathComponent("reports/small/results.csv"), encoding: .utf8)
        XCTAssertTrue(results.contains(",identity,") && results.contains(",mean_shift,") && !results.contains(",eot,"), results)
    }

    /// Every task of every drug fails: the report says why and draws no empty charts.
    func testDrugsWithoutResultsGetNoCharts() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder, methods: "  eot: { solver: eot }", drugCells: 6)
        let result = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(result.status, 1)
        let reports = folder.appendingPathComponent("reports/small")
        let files = try FileManager.default.contentsOfDirectory(atPath: reports.path)
        XCTAssertEqual(files.filter { $0.hasSuffix(".svg") }, [], "\(files)")
        let markdown = try String(contentsOf: reports.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("tuning epsilon needs at least 1 held-out"), markdown)
        XCTAssertFalse(markdown.contains(".svg"), markdown)
    }

    func testAnUnconvergedProgOTStepIsNamedInTheReport() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder, methods: "      progot: { solver: progot, steps: 3, max_iterations: 2, threshold: 1e-9 }")
        XCTAssertEqual(try CLI.run(["run", file, "--quiet"]).status, 0)
        let reports = folder.appendingPathComponent("reports/small")
        let markdown = try String(contentsOf: reports.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains(" †"), markdown)
        XCTAssertTrue(markdown.contains("Runs that did not meet their threshold"), markdown)
        // Each unconverged run is one row naming drug, d, seed, method and the step, with its α.
        XCTAssertTrue(markdown.contains("| cisplatin | 4 | 0 | progot | progot_step 3 | "), markdown)
        XCTAssertTrue(markdown.contains("| 1 | 2 | "), markdown)  // step 3 of lin K = 3: α = 1, 2 iterations
        let steps = try String(contentsOf: reports.appendingPathComponent("steps.csv"), encoding: .utf8)
        let stepRows = steps.split(separator: "\n").filter { $0.contains(",progot,progot_step,") }
        XCTAssertEqual(stepRows.count, 2 * 2 * 2 * 3, steps)
        XCTAssertTrue(stepRows.allSatisfy { $0.contains(",2,false,") }, steps)
    }

    func testReportNumbersAreThoseOfResultsCSV() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder, methods: methods)
        XCTAssertEqual(try CLI.run(["run", file, "--quiet"]).status, 0)
        let reports = folder.appendingPathComponent("reports/small")
        let rows = try ResultsReport.parseResultsCSV(try String(contentsOf: reports.appendingPathComponent("results.csv"), encoding: .utf8))
        // 2 drugs × 2 d × 2 seeds × (4 methods × (3 metrics, their 3 half-sample scores, the displacement
        // dimensionality and its 75th percentile) + eot's 3 diagnostics (epsilon, epsilon_scale, iterations)
        // + progot's 2 (step_iterations, steps_unconverged) + the 2 references × 3 half-sample metrics)
        XCTAssertEqual(rows.count, 2 * 2 * 2 * (4 * 8 + 3 + 2 + 2 * 3))

        // steps.csv: every Sinkhorn run of every fit — per eot fit the 10 ε-search scales and the
        // final solve, per progot fit the 10 scales and its 3 steps — and the report's summary.
        let steps = try String(contentsOf: reports.appendingPathComponent("steps.csv"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        XCTAssertEqual(steps.first, SolverRunsReport.csvHeader)
        let runs = steps.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(runs.filter { $0[3] == "eot" }.count, 8 * 11)
        XCTAssertEqual(runs.filter { $0[3] == "progot" && $0[4] == "progot_step" }.map { $0[5] }.sorted(),
                       Array(repeating: ["1", "2", "3"], count: 8).flatMap { $0 }.sorted())
        XCTAssertTrue(runs.filter { $0[4] == "progot_step" }.allSatisfy { Double($0[7]).map { $0 > 0 && $0 <= 1 } ?? false },
                      "every step has its α")
        XCTAssertTrue(runs.allSatisfy { Int($0[11]).map { $0 >= 1 } ?? false }, "every run counts its iterations")
        let dimensionality = rows.filter { $0.metric == "displacement_dimensionality" }
        XCTAssertTrue(dimensionality.filter { $0.method == "identity" }.allSatisfy { $0.value == 0 })
        XCTAssertTrue(dimensionality.filter { $0.method == "mean_shift" }.allSatisfy { $0.value > 0 && $0.value <= 48 })
        let rebuilt = ResultsReport(rows: rows, drugs: ["cisplatin", "sorafenib"], components: [4, 8],
                                    methods: ["identity", "mean_shift", "eot", "progot"],
                                    metrics: ["sinkhorn_divergence", "mmd", "mean_l2"])
        XCTAssertEqual(rebuilt.tableCSV(), try String(contentsOf: reports.appendingPathComponent("table.csv"), encoding: .utf8))
        // One cell by hand: mean ± std of identity's divergence for cisplatin at d = 4.
        let values = rows.filter { $0.drug == "cisplatin" && $0.components == 4 && $0.method == "identity" && $0.metric == "sinkhorn_divergence" }
            .map(\.value)
        XCTAssertEqual(values.count, 2)
        let mean = (values[0] + values[1]) / 2, std = abs(values[0] - values[1]) / 2.0.squareRoot()
        let markdown = try String(contentsOf: reports.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains(String(format: "%.4f ± %.4f", mean, std)), markdown)
        XCTAssertTrue(markdown.contains("## displacement_dimensionality (not ranked)"), markdown)
        XCTAssertTrue(markdown.contains("## Solver runs"), markdown)
        XCTAssertTrue(markdown.contains("| progot | 8 | 104 |"), markdown)
        XCTAssertTrue(markdown.contains("| identity | 0.0000 ± 0.0000 | 0.0000 ± 0.0000 |"), markdown)

        // Per drug: a bar chart and a PC scatter, well-formed SVG, shown in report.md.
        for drug in ["cisplatin", "sorafenib"] {
            for plot in ["\(drug)_sinkhorn_divergence.svg", "\(drug)_scatter.svg"] {
                let parser = try XCTUnwrap(XMLParser(contentsOf: reports.appendingPathComponent(plot)), plot)
                XCTAssertTrue(parser.parse(), "\(plot): \(String(describing: parser.parserError))")
                XCTAssertTrue(markdown.contains("![\(drug)](\(plot))"), plot)
            }
        }
        let scatter = try String(contentsOf: reports.appendingPathComponent("cisplatin_scatter.svg"), encoding: .utf8)
        // Small multiples: a panel for the test control cells and one per method, each over the treated cells' density.
        for panel in ["test control (unmoved)", "identity", "progot"] { XCTAssertTrue(scatter.contains(">\(panel)<"), panel) }
        XCTAssertTrue(scatter.contains("grey: test treated (density)"), scatter.prefix(600).description)
        XCTAssertEqual(scatter.components(separatedBy: "fill=\"white\" stroke=\"#999\"").count - 1, 1 + 4, "a panel per method and one for the control")
    }

    func testReportIsRebuiltFromTheCacheAndGarbageIsCollected() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder, methods: methods)
        XCTAssertEqual(try CLI.run(["run", file, "--quiet"]).status, 0)
        let table = folder.appendingPathComponent("reports/small/table.csv")
        let original = try String(contentsOf: table, encoding: .utf8)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("reports"))
        let rebuilt = try CLI.run(["report", file])
        XCTAssertEqual(rebuilt.status, 0, rebuilt.stderr)
        XCTAssertEqual(try String(contentsOf: table, encoding: .utf8), original)
        let markdown = try String(contentsOf: folder.appendingPathComponent("reports/small/report.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("rebuilt from the cache by `perturbot report`"), markdown)
        XCTAssertFalse(markdown.contains("wall time"))

        _ = try pipeline(in: folder, methods: methods.replacingOccurrences(of: "steps: 3", with: "steps: 2"))
        let listing = try CLI.run(["cache", "ls", file])
        let lines = listing.stdout.split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.hasPrefix("missing") }.count, 16, listing.stdout)
        XCTAssertEqual(lines.filter { $0.hasPrefix("unused") }.count, 16, listing.stdout)
        let collected = try CLI.run(["cache", "gc", file])
        XCTAssertTrue(collected.stdout.hasPrefix("removed 16 entries"), collected.stdout)
        XCTAssertEqual(try CLI.run(["cache", "ls", file]).stdout.split(separator: "\n").filter { $0.hasPrefix("unused") }.count, 0)
    }

    func testSavedPredictionsHoldTestCellsAndEveryMethod() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder, methods: methods, savePredictions: true)
        XCTAssertEqual(try CLI.run(["run", file, "--quiet"]).status, 0)
        let path = folder.appendingPathComponent("reports/small/predictions/cisplatin_d4.h5ad").path
        let data = try AnnDataReader.read(path, as: Float.self)
        XCTAssertEqual(data.nVars, 48)
        XCTAssertEqual(data.obsm["X_pca"]?.cols, 4)
        guard case .categorical(let method)? = data.obs["method"] else { return XCTFail("no method column") }
        XCTAssertEqual(Set(method.categories), ["control", "treated", "identity", "mean_shift", "eot", "progot"])
        let counts = Dictionary(uniqueKeysWithValues: zip(method.categories, method.counts))
        // 2 seeds × 40 test control cells (a quarter of 160), mapped by each method.
        XCTAssertEqual(counts["control"], 80)
        XCTAssertEqual(counts["treated"], 40)
        for name in ["identity", "mean_shift", "eot", "progot"] { XCTAssertEqual(counts[name], 80, name) }
        // identity's prediction is the control cells themselves.
        let pcs = try XCTUnwrap(data.obsm["X_pca"])
        let control = (0..<pcs.rows).filter { method[$0] == "control" }, identity = (0..<pcs.rows).filter { method[$0] == "identity" }
        XCTAssertEqual(pcs.rows(at: control), pcs.rows(at: identity))

        // Every row traces back to a cell of the data file; control rows carry the control label.
        let cells = Set(try AnnDataReader.obsNames(folder.appendingPathComponent("demo.h5ad").path))
        guard case .string(let sources)? = data.obs["source_cell"],
              case .categorical(let condition)? = data.obs["condition"],
              case .categorical(let drug)? = data.obs["drug"],
              case .integer(let seeds)? = data.obs["seed"] else { return XCTFail("obs columns missing: \(data.obs.columnNames)") }
        XCTAssertEqual(Set(data.obs.index).count, data.nObs, "obs names are unique")
        for row in 0..<data.nObs {
            XCTAssertTrue(cells.contains(sources[row]), sources[row])
            let expectedName = condition[row] == "predicted"
                ? "\(sources[row]):\(method[row] ?? ""):seed\(seeds[row])" : "\(sources[row]):seed\(seeds[row])"
            XCTAssertEqual(data.obs.index[row], expectedName)
            XCTAssertEqual(drug[row], condition[row] == "control" ? "control" : "cisplatin", data.obs.index[row])
            XCTAssertEqual(condition[row], ["control": "control", "treated": "treated"][method[row] ?? ""] ?? "predicted")
        }
        // identity's prediction of a cell is that cell's own row.
        for (c, i) in zip(control, identity) { XCTAssertEqual(sources[c], sources[i]) }

        // scanpy opens the file and draws its PCA (CI installs scanpy; elsewhere a skip).
        guard let python = ProcessRunner.pythonWithScanpy() else {
            if ProcessRunner.isCI { return XCTFail("CI=true but no python with scanpy (set PERTURBOT_PYTHON)") }
            throw XCTSkip("python with scanpy not available; set PERTURBOT_PYTHON")
        }
        let figure = folder.appendingPathComponent("pca.png").path
        let script = """
            import sys, matplotlib
            matplotlib.use("Agg")
            import scanpy as sc
            adata = sc.read_h5ad(sys.argv[1])
            figure = sc.pl.pca(adata, color=["condition", "method"], return_fig=True, show=False)
            figure.savefig(sys.argv[2])
            print(adata.n_obs, adata.obs_names[-1], adata.obs["source_cell"].iloc[-1])
            """
        let drawn = try ProcessRunner.run(python, ["-c", script, path, figure])
        XCTAssertEqual(drawn.status, 0, drawn.stderr)
        XCTAssertTrue(drawn.stdout.hasPrefix("\(data.nObs) \(data.obs.index[data.nObs - 1]) \(sources[data.nObs - 1])"), drawn.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: figure))
    }

    func testICNNSolverRunsInThePipeline() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder, methods: """
              identity: { solver: identity }
              icnn: { solver: icnn, iterations: 20, inner_iterations: 2, batch_size: 32, width: 8, learning_rate: 0.001 }
            """)
        let result = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try ResultsReport.parseResultsCSV(try String(
            contentsOf: folder.appendingPathComponent("reports/small/results.csv"), encoding: .utf8))
        XCTAssertEqual(rows.filter { $0.method == "icnn" }.count, 2 * 2 * 2 * 8)
        XCTAssertTrue(rows.allSatisfy { $0.value.isFinite })
        // A second run decodes the cached ICNN maps instead of training again.
        XCTAssertEqual(taskCounts(try CLI.run(["run", file, "--quiet"]).stdout).ran, 0)
    }

    /// The entropic methods take a ground cost and Sinkhorn accelerators in a pipeline, as on the
    /// command line.
    func testEntropicMethodsTakeACostAndAcceleratorsInAPipeline() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder, methods: """
              eot_l1: { solver: eot, cost: { name: elastic_l1, lambda: 1 } }
              progot_p: { solver: progot, cost: { name: pnorm, p: 1.5 }, steps: 2 }
              untuned_anderson: { solver: untuned, anderson: 2, momentum: 1.2 }
            """)
        let result = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try ResultsReport.parseResultsCSV(try String(
            contentsOf: folder.appendingPathComponent("reports/small/results.csv"), encoding: .utf8))
        for method in ["eot_l1", "progot_p", "untuned_anderson"] {
            XCTAssertFalse(rows.filter { $0.method == method }.isEmpty, method)
        }
        XCTAssertTrue(rows.allSatisfy { $0.value.isFinite })
        let bad = try pipeline(in: folder, methods: """
              eot_bad: { solver: eot, cost: { name: elastic_stvs, lambda: 3 } }
            """)
        try CLI.assertOneLineError(["validate", bad], ["methods.eot_bad", "'cost'", "λ ≤ 2"])
    }

    /// An out-of-distribution split on sc-RNA-like data: every map is fitted without the held-out
    /// cell state and tested on it; the report says so.
    func testOutOfDistributionSplitTestsOnTheHeldOutCellState() throws {
        let folder = try TestPaths.scratchDirectory()
        let data = folder.appendingPathComponent("sl.h5ad").path
        let generated = try CLI.run(["generate", "scrna-like", "--out", data, "--genes", "60", "--control-cells", "120",
                                     "--cells-per-drug", "60"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let file = folder.appendingPathComponent("ood.yaml").path
        let text = """
            name: ood
            data: { path: sl.h5ad, condition_key: drug, control: control, transform: normalize_log1p }
            drugs: [belinostat, hesperadin]
            pca: { components: [4] }
            split: { seeds: [0], holdout: { key: cell_state, values: [state3] } }
            methods: { identity: { solver: identity }, mean_shift: { solver: mean_shift } }
            report: { out: reports/ood }
            """
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        let result = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr + result.stdout)
        let report = try String(contentsOf: folder.appendingPathComponent("reports/ood/report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("**Out-of-distribution split.** The test cells are those with obs 'cell_state' in {state3}"), report)
        try Data(text.replacingOccurrences(of: "values: [state3]", with: "values: [state9]").utf8).write(to: URL(fileURLWithPath: file))
        try CLI.assertOneLineError(["validate", file], ["split.holdout.values", "'state9'"])
    }

    func testMongeGapAndSparseICNNRunInThePipelineAndReportTheirDiagnostics() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder, methods: """
              identity: { solver: identity }
              monge_gap: { solver: monge_gap, iterations: 5, batch_size: 32, width: 8 }
              sparse: { solver: sparse_icnn, init_iterations: 5, adjust_iterations: 2, smooth_iterations: 1, decay: 0.5, batch_size: 32, width: 8, inner_iterations: 2, lambda: 0.1, penalty: stvs }
            """)
        let result = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let reports = folder.appendingPathComponent("reports/small")
        let rows = try ResultsReport.parseResultsCSV(try String(contentsOf: reports.appendingPathComponent("results.csv"), encoding: .utf8))
        // 3 metrics and their half-sample scores, the displacement dimensionality and its 75th
        // percentile, and each solver's 3 diagnostics.
        XCTAssertEqual(rows.filter { $0.method == "monge_gap" }.count, 2 * 2 * 2 * 11)
        XCTAssertEqual(rows.filter { $0.method == "sparse" }.count, 2 * 2 * 2 * 11)
        XCTAssertEqual(Set(rows.filter { $0.method == "sparse" }.map(\.metric)).subtracting(
            ["sinkhorn_divergence", "mmd", "mean_l2", "displacement_dimensionality", "displacement_dimensionality_p75"]
                + ["sinkhorn_divergence", "mmd", "mean_l2"].map { $0 + ResultsReport.halfSampleSuffix }),
                       ["final_lambda", "sliced_w2", "moved_coordinates"])
        XCTAssertTrue(rows.allSatisfy { $0.value.isFinite })
        let markdown = try String(contentsOf: reports.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("## Features moved most (not ranked)"), markdown)
        XCTAssertTrue(markdown.contains("## Solver diagnostics (not ranked)"), markdown)
        XCTAssertTrue(markdown.contains("### final_lambda"), markdown)
        XCTAssertTrue(markdown.contains("### monge_gap"), markdown)
        // identity has no diagnostics, so it has no row in their tables.
        let diagnostics = markdown.components(separatedBy: "## Solver diagnostics")[1]
        XCTAssertFalse(diagnostics.contains("| identity |"))
        // Nor in the moved-features table: it moves nothing.
        let moved = markdown.components(separatedBy: "## Features moved most")[1].components(separatedBy: "## Solver diagnostics")[0]
        XCTAssertTrue(moved.contains("| identity | — |"), moved)
        XCTAssertEqual(taskCounts(try CLI.run(["run", file, "--quiet"]).stdout).ran, 0)
    }

    func testEgnotRunsInThePipelineAndTheReportSaysItIsStochastic() throws {
        let folder = try TestPaths.scratchDirectory()
        let file = try pipeline(in: folder, methods: """
              identity: { solver: identity }
              egnot: { solver: egnot, iterations: 5, langevin_steps: 5, test_langevin_steps: 10, batch_size: 32, hidden: 8, layers: 2 }
            """)
        let result = try CLI.run(["run", file, "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let reports = folder.appendingPathComponent("reports/small")
        let rows = try ResultsReport.parseResultsCSV(try String(contentsOf: reports.appendingPathComponent("results.csv"), encoding: .utf8))
        // 3 metrics and their half-sample scores, the displacement dimensionality and its 75th
        // percentile, and 3 diagnostics.
        XCTAssertEqual(rows.filter { $0.method == "egnot" }.count, 2 * 2 * 2 * 11)
        XCTAssertTrue(rows.allSatisfy { $0.value.isFinite })
        let markdown = try String(contentsOf: reports.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("Stochastic maps: egnot."), markdown)
        XCTAssertTrue(markdown.contains("### final_loss"), markdown)
        XCTAssertEqual(taskCounts(try CLI.run(["run", file, "--quiet"]).stdout).ran, 0)
        // A Langevin step that would overshoot is refused at its line, before anything runs.
        let bad = try pipeline(in: try TestPaths.scratchDirectory(), methods: """
              egnot: { solver: egnot, epsilon: 0.1, step_size: 0.5 }
            """)
        let refused = try CLI.run(["validate", bad])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("'step_size' must be below 2·epsilon = 0.2"), refused.stderr)
    }
}
