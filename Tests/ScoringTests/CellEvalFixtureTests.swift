import Foundation
import Scoring
import TestSupport
import XCTest

/// `perturbot score`'s numbers against cell-eval 0.8.1 (with pdex 0.2.5) and pertpy 1.2.0 on
/// the files scripts/fixtures/make_score_fixture.py wrote (Tests/Fixtures/score/).
final class CellEvalFixtureTests: XCTestCase {
    private let folder = TestPaths.repository.appendingPathComponent("Tests/Fixtures/score")

    /// A polars CSV: header, then rows; empty cells are nil, `NaN` is NaN.
    private func table(_ name: String) throws -> (header: [String], rows: [[String]]) {
        let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return (lines[0], Array(lines.dropFirst()))
    }

    private func scored() throws -> CellEval.Outcome {
        let (real, predicted) = try ScoreInput.read(real: folder.appendingPathComponent("real.h5ad").path,
                                                    predicted: folder.appendingPathComponent("pred.h5ad").path,
                                                    perturbationColumn: "target", control: "non-targeting")
        return CellEval.score(real: real, predicted: predicted, control: "non-targeting")
    }

    func testDifferentialExpressionMatchesPdex() throws {
        let outcome = try scored()
        for (file, de) in [("real_de.csv", outcome.realDE), ("pred_de.csv", outcome.predictedDE)] {
            let (header, rows) = try table(file)
            let column = { (name: String) throws -> Int in try XCTUnwrap(header.firstIndex(of: name), name) }
            let target = try column("target"), feature = try column("feature"), lfc = try column("log2_fold_change")
            let p = try column("p_value"), fdr = try column("fdr"), statistic = try column("statistic")
            XCTAssertEqual(rows.count, de.targets.count * de.genes.count, file)
            for row in rows {
                let table = try XCTUnwrap(de.target(row[target]), row[target])
                let gene = try XCTUnwrap(de.genes.firstIndex(of: row[feature]))
                let expected = (lfc: Double(row[lfc]) ?? .nan, p: Double(row[p]) ?? .nan, fdr: Double(row[fdr]) ?? .nan)
                let context = "\(file) \(row[target]) \(row[feature])"
                if expected.lfc.isInfinite {
                    XCTAssertEqual(table.log2FoldChange[gene], expected.lfc, context)
                } else {
                    XCTAssertEqual(table.log2FoldChange[gene], expected.lfc, accuracy: 1e-5 * Swift.max(1, abs(expected.lfc)), context)
                }
                XCTAssertEqual(table.pValue[gene], expected.p, accuracy: 1e-9 + 1e-6 * expected.p, context)
                XCTAssertEqual(table.fdr[gene], expected.fdr, accuracy: 1e-9 + 1e-6 * expected.fdr, context)
                XCTAssertEqual(table.statistic[gene], Double(row[statistic]) ?? .nan, context)
            }
        }
    }

    func testMetricsMatchCellEval() throws {
        let outcome = try scored()
        let (header, rows) = try table("results.csv")
        let exact: Set<String> = Set(CellEval.deMetrics.filter { $0.hasPrefix("overlap") || $0.hasPrefix("precision") || $0.hasPrefix("de_nsig") })
            .union(["de_sig_genes_recall", "de_direction_match"])
        let deDerived: Set<String> = ["de_spearman_sig", "de_spearman_lfc_sig", "pr_auc", "roc_auc"]
        var compared = 0
        for row in rows {
            let perturbation = row[0]
            XCTAssertTrue(outcome.table.perturbations.contains(perturbation), perturbation)
            for (index, metric) in header.enumerated().dropFirst() where metric != "clustering_agreement" {
                let context = "\(perturbation) \(metric)"
                let cell = row[index]
                let ours = outcome.table.value(perturbation, metric)
                guard !cell.isEmpty else {
                    XCTAssertNil(ours, context)
                    continue
                }
                let expected = try XCTUnwrap(Double(cell), context)
                let value = try XCTUnwrap(ours, context)
                if expected.isNaN {
                    XCTAssertTrue(value.isNaN, "\(context): \(value)")
                } else if metric == "pearson_edistance" {
                    // cell-eval computes its energy distances in X's float32 (4e-6 here; the
                    // float64 run below holds it to 1e-9).
                    XCTAssertEqual(value, expected, accuracy: 1e-4, context)
                } else if exact.contains(metric) {
                    XCTAssertEqual(value, expected, accuracy: 1e-12, context)
                } else if deDerived.contains(metric) {
                    XCTAssertEqual(value, expected, accuracy: 1e-3, context)
                } else {
                    XCTAssertEqual(value, expected, accuracy: 1e-6 * Swift.max(1, abs(expected)), context)
                }
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, 80)
    }

    /// The pseudobulk metrics against cell-eval run on float64 copies of the files: the same
    /// arithmetic in the same precision.
    func testPseudobulkMetricsMatchCellEvalInDouble() throws {
        let outcome = try scored()
        let (header, rows) = try table("results_float64.csv")
        var compared = 0
        for row in rows {
            for (index, metric) in header.enumerated().dropFirst() where metric != "clustering_agreement" {
                let expected = try XCTUnwrap(Double(row[index]), "\(row[0]) \(metric)")
                let value = try XCTUnwrap(outcome.table.value(row[0], metric), "\(row[0]) \(metric)")
                XCTAssertEqual(value, expected, accuracy: 1e-9 * Swift.max(1, abs(expected)), "\(row[0]) \(metric)")
                compared += 1
            }
        }
        XCTAssertEqual(compared, 4 * 9)
    }

    func testEnergyDistanceMatchesPertpy() throws {
        let expected = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("edistance.json")))
            as? [String: Double])
        let (real, predicted) = try ScoreInput.read(real: folder.appendingPathComponent("real.h5ad").path,
                                                    predicted: folder.appendingPathComponent("pred.h5ad").path,
                                                    perturbationColumn: "target", control: "non-targeting")
        let realGroups = real.groups, predictedGroups = predicted.groups
        XCTAssertFalse(expected.isEmpty)
        for (label, value) in expected {
            let ours = EnergyDistance.between(real.values.rows(at: realGroups[label] ?? []),
                                              predicted.values.rows(at: predictedGroups[label] ?? []))
            XCTAssertEqual(ours, value, accuracy: 1e-6 * Swift.max(1, abs(value)), label)
        }
    }
}
