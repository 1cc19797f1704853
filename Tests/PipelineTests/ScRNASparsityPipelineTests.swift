import AnnData
import Foundation
import Pipeline
import Reports
import Stages
import TestSupport
import XCTest

/// The seconds-long configuration of the sparsity experiment: `perturbot generate scrna-sparse`
/// data solved in gene space (`pca: none`) by eot and the two MBO maps, scored against the true
/// images; the MBO maps move fewer genes than eot.
final class ScRNASparsityPipelineTests: XCTestCase {
    func testMBOMovesFewerGenesThanEOTInGeneSpace() throws {
        let folder = try TestPaths.scratchDirectory()
        let data = try ScRNASparseDataset.make(.init(seed: 1, cells: 150, genes: 60, perturbedGenes: 5, noiseGenes: 30))
        try AnnDataWriter.write(data, to: folder.appendingPathComponent("sparse.h5ad").path)
        let file = folder.appendingPathComponent("sparse.yaml").path
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
            evaluate: { metrics: [map_mse, sinkhorn_divergence] }
            report: { out: report, formats: [markdown, csv] }
            """.utf8).write(to: URL(fileURLWithPath: file))
        let (spec, plan, cache, resolved) = try Runner.prepare(file: file, cacheDirectory: nil)
        let runner = Runner(spec: spec, plan: plan, cache: cache, dataPath: resolved, jobs: 2, progress: nil)
        XCTAssertEqual(runner.run().filter { $0.status != .ran }.map(\.id), [])
        let report = try ReportWriter.write(spec: spec, pipelineFile: file, plan: plan, cache: cache,
                                            evaluations: runner.evaluations(), failures: [], wallSeconds: 1)
        let rows = try ResultsReport.parseResultsCSV(try String(contentsOf: report.appendingPathComponent("results.csv"), encoding: .utf8))
        func value(_ method: String, _ metric: String) throws -> Double {
            try XCTUnwrap(rows.first { $0.method == method && $0.metric == metric }, "\(method) \(metric)").value
        }
        XCTAssertEqual(Set(rows.map(\.components)), [60])
        for method in ["eot", "mbo_l1", "mbo_stvs"] { XCTAssertTrue(try value(method, "map_mse").isFinite, method) }
        for method in ["mbo_l1", "mbo_stvs"] {
            XCTAssertLessThan(try value(method, "displacement_dimensionality"), try value("eot", "displacement_dimensionality"),
                              "\(method) moves fewer genes than eot")
        }
    }
}
