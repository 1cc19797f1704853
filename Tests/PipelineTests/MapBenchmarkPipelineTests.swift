import AnnData
import Datasets
import Foundation
import LinearAlgebra
import Pipeline
import Reports
import Stages
import TestSupport
import XCTest

/// `pca: none`, lists of feature sets, `data.true_map` and the map_mse / l2_uvp metrics: the
/// file's rules with their messages, the checks against the data, and a run through the runner.
final class MapBenchmarkPipelineTests: XCTestCase {
    private let valid = """
        name: gmm
        data: { path: gmm.h5ad, condition_key: condition, control: source, features: [gmm_d4, gmm_d6], true_map: [true_map_d4, true_map_d6] }
        drugs: [target]
        pca: none
        split: { test_fraction: 0.25, seeds: [0, 1] }
        methods:
          identity: { solver: identity }
          mean_shift: { solver: mean_shift }
          eot: { solver: eot }
        evaluate: { metrics: [map_mse, l2_uvp, sinkhorn_divergence] }
        report: { out: reports/gmm, formats: [markdown, csv] }

        """

    private func lines(_ text: String) -> [String] {
        do {
            _ = try SpecParser.parse(text, file: "p.yaml")
            return ["(no error)"]
        } catch let error as PipelineSpecError {
            return error.lines
        } catch {
            return ["unexpected \(error)"]
        }
    }

    func testFeatureListsTrueMapsAndPCANoneAreRead() throws {
        let spec = try SpecParser.parse(valid, file: "p.yaml")
        XCTAssertEqual(spec.pca, .disabled)
        XCTAssertEqual(spec.pcaComponents, [])
        XCTAssertEqual(spec.data.featureSets.map(\.value), ["gmm_d4", "gmm_d6"])
        XCTAssertEqual(spec.data.features.value, "gmm_d4")
        XCTAssertEqual(spec.data.trueMaps?.map(\.value), ["true_map_d4", "true_map_d6"])
        XCTAssertEqual(spec.evaluate.metrics, [.map_mse, .l2_uvp, .sinkhorn_divergence])
        // One feature set and one true map may be plain values.
        let single = try SpecParser.parse(valid.replacingOccurrences(of: "features: [gmm_d4, gmm_d6], true_map: [true_map_d4, true_map_d6]",
                                                                     with: "features: gmm_d4, true_map: true_map_d4"), file: "p.yaml")
        XCTAssertEqual(single.data.featureSets.map(\.value), ["gmm_d4"])
        XCTAssertEqual(single.data.trueMaps?.map(\.value), ["true_map_d4"])
        // Without data.true_map there is none, and the default metrics need none.
        let plain = try SpecParser.parse("""
            name: plain
            data: { path: d.h5ad, condition_key: drug, control: ctrl }
            drugs: all
            pca: none
            split: { test_fraction: 0.25, seeds: 3 }
            methods: { p: { solver: identity } }
            """, file: "plain.yaml")
        XCTAssertNil(plain.data.trueMaps)
        XCTAssertEqual(plain.evaluate.metrics, [.sinkhorn_divergence, .mmd, .mean_l2])
    }

    func testRuleBreakingFilesGiveLocatedMessages() {
        let cases: [(old: String, new: String, expected: [String])] = [
            ("pca: none", "pca: nothing", ["p.yaml:4:6: pca must be none or a mapping with key components, got 'nothing'"]),
            (", true_map: [true_map_d4, true_map_d6] }", " }", [
                "p.yaml:10:23: evaluate.metrics: map_mse needs data.true_map (the obsm entry holding each cell's true image T₀(x))",
                "p.yaml:10:32: evaluate.metrics: l2_uvp needs data.true_map (the obsm entry holding each cell's true image T₀(x))",
            ]),
            ("pca: none", "pca: { components: [2] }", [
                "p.yaml:2:79: data.features lists 2 feature sets; that needs pca: none (each set is solved in its own feature space)",
                "p.yaml:10:23: evaluate.metrics: map_mse compares maps in feature space; it needs pca: none",
                "p.yaml:10:32: evaluate.metrics: l2_uvp compares maps in feature space; it needs pca: none",
            ]),
            ("true_map: [true_map_d4, true_map_d6]", "true_map: [true_map_d4]",
             ["p.yaml:2:106: data.true_map must name one obsm entry per feature set: it names 1, data.features lists 2"]),
            ("true_map: [true_map_d4, true_map_d6] }", "true_map: [true_map_d4, true_map_d6], transform: log1p }",
             ["p.yaml:2:145: data.transform must be none with data.true_map: the true images are compared with the maps in the untransformed feature space"]),
            ("features: [gmm_d4, gmm_d6]", "features: [gmm_d4, gmm_d4]", ["p.yaml:2:87: data.features lists 'gmm_d4' twice"]),
            ("features: [gmm_d4, gmm_d6]", "features: []", ["p.yaml:2:78: data.features must be a text value or a non-empty list of them"]),
        ]
        for (old, new, expected) in cases {
            XCTAssertTrue(valid.contains(old), old)
            XCTAssertEqual(lines(valid.replacingOccurrences(of: old, with: new)), expected, new)
        }
    }

    private func writeData(in folder: URL, dimensions: [Int] = [4, 6], source: Int = 80, target: Int = 80) throws -> String {
        let path = folder.appendingPathComponent("gmm.h5ad").path
        try AnnDataWriter.write(try MapBenchmarkDataset.make(.init(dimensions: dimensions, seed: 3, sourceCells: source, targetCells: target)),
                                to: path)
        return path
    }

    func testDataChecksNameWrongTrueMapsAndClashingDimensions() throws {
        let summary = try AnnDataSummary.read(try writeData(in: try TestPaths.scratchDirectory()))
        func messages(_ old: String, _ new: String) throws -> [String] {
            DataCheck.issues(try SpecParser.parse(old.isEmpty ? valid : valid.replacingOccurrences(of: old, with: new), file: "p.yaml"),
                             against: summary)
                .map(\.description)
        }
        XCTAssertEqual(try messages("", ""), [])
        XCTAssertEqual(try messages("true_map: [true_map_d4, true_map_d6]", "true_map: [true_map_d6, true_map_d5]"), [
            "2:107: data.true_map: obsm 'true_map_d6' is 160 × 6, expected 160 × 4 (one true image per cell, in the space of 'gmm_d4')",
            "2:120: data.true_map: no obsm entry 'true_map_d5' (obsm has: gmm_d4, gmm_d6, true_map_d4, true_map_d6)",
        ])
        XCTAssertEqual(try messages("features: [gmm_d4, gmm_d6], true_map: [true_map_d4, true_map_d6]",
                                    "features: [gmm_d4, true_map_d4], true_map: [true_map_d4, gmm_d4]"), [
            "2:87: data.features: 'gmm_d4' and 'true_map_d4' both have 4 dimensions; with pca: none the report's d column must tell the feature sets apart",
        ])
    }

    /// identity, mean_shift and eot on two feature sets without PCA: the report's d columns are
    /// the feature dimensions, and identity's map_mse is mean ‖x − T₀(x)‖² over the test source
    /// cells of the split.
    func testPipelineRunsInFeatureSpaceAndReportsTheMapError() throws {
        let folder = try TestPaths.scratchDirectory()
        let dataPath = try writeData(in: folder)
        let file = folder.appendingPathComponent("gmm.yaml").path
        try Data(valid.utf8).write(to: URL(fileURLWithPath: file))
        let experiment = try PerturbationExperiment.prepare(file: file, cacheDirectory: nil)
        let plan = experiment.plan
        XCTAssertEqual(plan.components, [4, 6])
        // 2 loads, 2 splits, 2 dimensions × 2 seeds × (3 methods × (solve + evaluate) + 1 ceiling); no pca task.
        XCTAssertEqual(plan.tasks.count, 2 + 2 + 28)
        XCTAssertFalse(plan.tasks.contains { $0.stage == .pca })
        XCTAssertNotNil(plan.task("load/gmm_d6"))
        XCTAssertEqual(plan.task("evaluate/target/d6/seed1/eot")?.inputs, ["solve/target/d6/seed1/eot", "load/gmm_d6", "split/target/seed1"])
        let runner = Runner(experiment: experiment, jobs: 2, progress: nil)
        let outcomes = runner.run()
        XCTAssertEqual(outcomes.filter { $0.status != .ran }.map(\.id), [])
        let folderURL = try experiment.writeReport(failures: [], wallSeconds: 1)
        let rows = try ResultsReport.parseResultsCSV(try String(contentsOf: folderURL.appendingPathComponent("results.csv"), encoding: .utf8))
        XCTAssertEqual(Set(rows.map(\.components)), [4, 6])
        for metric in ["map_mse", "l2_uvp", "sinkhorn_divergence"] {
            XCTAssertEqual(rows.filter { $0.metric == metric }.count, 2 * 2 * 3, metric)
        }
        XCTAssertTrue(rows.allSatisfy { $0.value.isFinite })

        let data = try AnnDataReader.read(dataPath, as: Float.self, requireX: false)
        for (d, seed) in [(4, UInt64(0)), (6, UInt64(1))] {
            let split = try DrugSplit.make(drug: "target", control: Array(0..<80), treated: Array(80..<160), testFraction: 0.25, seed: seed)
            XCTAssertEqual(split.testControl.count, 20)
            let x = try XCTUnwrap(data.obsm["gmm_d\(d)"]), t = try XCTUnwrap(data.obsm["true_map_d\(d)"])
            var expected = 0.0
            for i in split.testControl { for j in 0..<d { expected += pow(Double(x[i, j]) - Double(t[i, j]), 2) } }
            expected /= Double(split.testControl.count)
            func value(_ method: String, _ metric: String) throws -> Double {
                try XCTUnwrap(rows.first { $0.components == d && $0.seed == seed && $0.method == method && $0.metric == metric }).value
            }
            XCTAssertEqual(try value("identity", "map_mse"), expected, accuracy: 1e-9 * expected)
            let variance = Metrics.totalVariance(t.rows(at: split.testControl))
            XCTAssertEqual(try value("identity", "l2_uvp"), 100 * expected / variance, accuracy: 1e-6 * expected)
            // mean_shift: T(x) = x + ȳ − x̄ over the training cells of the split.
            let shift = zip(x.rows(at: split.trainTreated).converted(to: Double.self).columnMeans(),
                            x.rows(at: split.trainControl).converted(to: Double.self).columnMeans()).map { $0 - $1 }
            var shifted = 0.0
            for i in split.testControl {
                for j in 0..<d { shifted += pow(Double(Float(Double(x[i, j]) + shift[j])) - Double(t[i, j]), 2) }
            }
            shifted /= Double(split.testControl.count)
            XCTAssertEqual(try value("mean_shift", "map_mse"), shifted, accuracy: 1e-4 * shifted)
        }
        let markdown = try String(contentsOf: folderURL.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("## map_mse"), markdown)
        XCTAssertTrue(markdown.contains("## l2_uvp"), markdown)
        XCTAssertTrue(markdown.contains("computed in feature space (no PCA; d is the feature dimension)"), markdown)
        XCTAssertTrue(markdown.contains("| method | d = 4 | d = 6 |"), markdown)
        // A second run reuses every task.
        XCTAssertEqual(Runner(experiment: experiment, jobs: 1, progress: nil).run()
            .filter { $0.status != .cached }.count, 0)
    }

    /// A load output without a true map encodes as before (no `trueMap` key), so old cache
    /// entries and new ones are the same bytes.
    func testLoadOutputWithoutTrueMapHasNoTrueMapKey() throws {
        let folder = try TestPaths.scratchDirectory()
        let path = try writeData(in: folder, dimensions: [3], source: 5, target: 5)
        let loaded = try Load.run(path: path, conditionKey: "condition", features: "gmm_d3", transform: .none)
        let json = String(decoding: try JSONEncoder().encode(loaded), as: UTF8.self)
        XCTAssertFalse(json.contains("trueMap"), json)
        XCTAssertEqual(try JSONDecoder().decode(LoadedData.self, from: Data(json.utf8)), loaded)
    }
}
