import AnnData
import Datasets
import Foundation
import Pipeline
import Reports
import Stages
import TestSupport
import XCTest

/// The seconds-long configuration of the sparsity experiment: `perturbot generate scrna-sparse`
/// data solved in gene space (`pca: none`) by eot and the two MBO maps, scored against the true
/// images. With perturbot's relative count (|Δ| > 0.1 × the gene's spread) the MBO maps move fewer
/// genes than eot; with the paper's |Δ| > 1 (evaluate.moved_threshold) every map finds the 5
/// perturbed genes, and changing the rule re-runs only the evaluate tasks.
final class ScRNASparsityPipelineTests: XCTestCase {
    func testMBOMovesFewerGenesThanEOTInGeneSpace() throws {
        let folder = try TestPaths.scratchDirectory()
        let data = try ScRNASparseDataset.make(.init(seed: 1, cells: 150, genes: 60, perturbedGenes: 5, noiseGenes: 30))
        try AnnDataWriter.write(data, to: folder.appendingPathComponent("sparse.h5ad").path)
        let file = folder.appendingPathComponent("sparse.yaml").path
        func run(evaluate: String) throws -> (statuses: [String: TaskOutcome.Status], value: (String, String) throws -> Double, markdown: String) {
            try Data("""
                name: scrna-sparsity-tiny
                data: { path: sparse.h5ad, condition_key: condition, control: control, features: X, true_map: true_map }
                drugs: [treated]
                pca: none
                split: { test_fraction: 0.2, seeds: [0] }
                methods:
                  eot: { solver: eot }
                  mbo_l1: { solver: mbo, penalty: l1, lambda: 1 }
                  mbo_stvs: { solver: mbo, penalty: stvs, lambda: 1, gamma: 2 }
                evaluate: \(evaluate)
                report: { out: report, formats: [markdown, csv] }
                """.utf8).write(to: URL(fileURLWithPath: file))
            let experiment = try PerturbationExperiment.prepare(file: file, cacheDirectory: folder.appendingPathComponent("cache").path)
            let runner = Runner(experiment: experiment, jobs: 2, progress: nil)
            let statuses = Dictionary(uniqueKeysWithValues: runner.run().map { ($0.id, $0.status) })
            let report = try experiment.writeReport(failures: [], wallSeconds: 1)
            let rows = try ResultsReport.parseResultsCSV(try String(contentsOf: report.appendingPathComponent("results.csv"), encoding: .utf8))
            XCTAssertEqual(Set(rows.map(\.components)), [60])
            let value = { (method: String, metric: String) throws -> Double in
                try XCTUnwrap(rows.first { $0.method == method && $0.metric == metric }, "\(method) \(metric)").value
            }
            return (statuses, value, try String(contentsOf: report.appendingPathComponent("report.md"), encoding: .utf8))
        }
        let relative = try run(evaluate: "{ metrics: [map_mse, sinkhorn_divergence] }")
        XCTAssertEqual(relative.statuses.filter { $0.value != .ran }.map(\.key), [])
        for method in ["eot", "mbo_l1", "mbo_stvs"] { XCTAssertTrue(try relative.value(method, "map_mse").isFinite, method) }
        for method in ["mbo_l1", "mbo_stvs"] {
            XCTAssertLessThan(try relative.value(method, "displacement_dimensionality"), try relative.value("eot", "displacement_dimensionality"),
                              "\(method) moves fewer genes than eot")
        }

        let absolute = try run(evaluate: "{ metrics: [map_mse, sinkhorn_divergence], moved_threshold: 1 }")
        for (id, status) in absolute.statuses {
            XCTAssertEqual(status, id.hasPrefix("evaluate/") ? .ran : .cached, "\(id): only the evaluate tasks depend on the rule")
        }
        for method in ["eot", "mbo_l1", "mbo_stvs"] {
            for metric in ["displacement_dimensionality", "displacement_dimensionality_p75"] {
                XCTAssertEqual(try absolute.value(method, metric), 5, accuracy: 1, "\(method) \(metric): the 5 perturbed genes")
            }
            XCTAssertGreaterThan(try absolute.value(method, "moved_precision"), 0.8, method)
            XCTAssertGreaterThan(try absolute.value(method, "moved_recall"), 0.95, method)
        }
        XCTAssertTrue(absolute.markdown.contains("## moved_precision (not ranked)"))
        XCTAssertTrue(absolute.markdown.contains("exceeds 1 in its own units (evaluate.moved_threshold)"))
        XCTAssertTrue(absolute.markdown.contains("## fit_seconds (not ranked)"))
    }
}
