import Foundation
import LinearAlgebra
@testable import Reports
import XCTest

/// `report.html`'s layout and size: the summary before the tables, one sortable table per
/// metric, per-drug sections collapsed past a few drugs, and at the size — 1,000 test
/// cells per drug, 10 methods, 50 drugs (the most that get their own sections) — under 10 MB.
final class HTMLReportTests: XCTestCase {
    func testSummaryFirstSortableTablesAndSizeAtFiftyDrugsOfTenMethods() throws {
        let drugs = (1...50).map { "drug\($0)" }, methods = (1...10).map { "method\($0)" }
        var rng = SeededRNG(seed: 1)
        var rows: [ResultRow] = []
        for drug in drugs {
            for method in methods {
                for seed in 0..<2 {
                    for metric in ["sinkhorn_divergence", "mean_l2"] {
                        rows.append(ResultRow(drug: drug, components: 16, method: method, seed: UInt64(seed), metric: metric,
                                              value: Double.random(in: 1...2, using: &rng), converged: method != "method3", seconds: 0.1))
                    }
                }
            }
        }
        let report = ResultsReport(rows: rows, drugs: drugs, components: [16], methods: methods, metrics: ["sinkhorn_divergence", "mean_l2"])
        let metadata = MarkdownReport.Metadata(pipelineName: "screen <test>", pipelineDigest: String(repeating: "a", count: 64), version: "0.1.0",
                                               date: "2026-12-06T00:00:00Z", wallSeconds: 1, featureSpace: false, splitNote: nil)
        var html = HTMLReport(report: report, metadata: metadata, failures: [("solve/drug1/d16/seed0/method1", "a <reason>")])
        func cloud() -> [[Float]] { (0..<1000).map { _ in [Float.random(in: -3...3, using: &rng), Float.random(in: -3...3, using: &rng)] } }
        for drug in drugs {
            html.figures[drug] = SVGCharts.smallMultiples(title: drug, reference: ("test treated", cloud()),
                                                          panels: [("test control", cloud())] + methods.map { ($0, cloud()) },
                                                          identifier: "density-\(drug)")
            html.movedFeatures[drug] = Dictionary(uniqueKeysWithValues: methods.map { ($0, [16: (1...5).map { FeatureShift(name: "gene\($0)", value: Double($0)) }]) })
        }
        let page = html.render()
        XCTAssertLessThan(page.utf8.count, 10_000_000, "\(page.utf8.count) bytes")
        XCTAssertGreaterThan(page.utf8.count, 1_000_000, "the figures are in the page")
        let summary = try XCTUnwrap(page.range(of: "<h2>Summary</h2>")), firstMetric = try XCTUnwrap(page.range(of: "<h2>sinkhorn_divergence</h2>"))
        XCTAssertLessThan(summary.lowerBound, firstMetric.lowerBound, "the summary comes first")
        XCTAssertEqual(page.components(separatedBy: "<table class=\"sortable\">").count - 1, 2 + 1, "one per metric and the overall rank")
        XCTAssertEqual(page.components(separatedBy: "<details>").count - 1, 50, "50 sections, collapsed")
        XCTAssertFalse(page.contains("<details open>"))
        XCTAssertTrue(page.contains("screen &lt;test&gt;") && page.contains("a &lt;reason&gt;"), "text is escaped")
        XCTAssertTrue(page.contains("(each cloud thinned to 300 of its points)"))
        XCTAssertEqual(page.components(separatedBy: "id=\"density-drug1\"").count - 1, 1, "one shading per figure, ids unique")
        // method3 never converged: marked in its cells.
        XCTAssertTrue(page.contains("class=\"warn\">"))
    }

    /// The screen summary's Markdown as HTML: headings, a paragraph with `code` and bold, a pipe
    /// table that sorts (numbers carry their value), images left out.
    func testMarkdownSectionsBecomeHTML() {
        let html = HTMLReport.html(markdown: """

            ## Screen summary (m, d = 8)

            12 conditions **in 2** contexts,
            see `table.csv`.

            | method | mean rank |
            |---|---|
            | eot | 1.25 |
            | a<b | — |

            ![heatmap](x.svg)
            """)
        XCTAssertEqual(html, """
            <h2>Screen summary (m, d = 8)</h2>
            <p>12 conditions <b>in 2</b> contexts, see <code>table.csv</code>.</p>
            <table class="sortable"><thead><tr><th>method</th><th>mean rank</th></tr></thead><tbody>
            <tr><td>eot</td><td data-value="1.25">1.25</td></tr>
            <tr><td>a&lt;b</td><td>—</td></tr>
            </tbody></table>

            """)
    }
}
