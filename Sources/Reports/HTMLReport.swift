import Foundation

/// `report.html`: the report as one self-contained page — inline CSS, inline SVG and a small
/// inline script, nothing fetched — that opens from disk in any browser. The summary comes
/// first (overall rank, normalised score, solver convergence, a methods × drugs heatmap), then
/// one sortable table per metric (click a header), then per drug the small multiples of the
/// predictions and the features each method moves most, collapsed when there are many drugs.
///
/// The page checks itself when opened as `report.html#selfcheck` (what the browser test does):
/// it sorts the first table by a method's column, twice, checks the order, and writes `ok` or
/// the first problem, with any script error, into the element `#selfcheck`.
public struct HTMLReport: Sendable {
    public let report: ResultsReport
    public let metadata: MarkdownReport.Metadata
    public let failures: [(task: String, message: String)]
    /// Per drug, the small-multiples SVG of its held-out cells and predictions.
    public var figures: [String: String] = [:]
    /// Drug → method → d → the features moved most.
    public var movedFeatures: [String: [String: [Int: [FeatureShift]]]] = [:]
    public var solverRuns: SolverRunsReport?
    public var screenSummary: ScreenSummary?
    /// Drug → the features its generator moves (synthetic data record them in uns), shown
    /// beside the features each method moves most.
    public var trueFeatures: [String: Set<String>] = [:]
    /// The saved predictions' files, relative to the report folder.
    public var predictionFiles: [String] = []
    /// Drugs beyond which the per-drug sections start collapsed.
    public static let openSectionsLimit = 8

    public init(report: ResultsReport, metadata: MarkdownReport.Metadata, failures: [(task: String, message: String)]) {
        self.report = report
        self.metadata = metadata
        self.failures = failures
    }

    public func render() -> String {
        var body = "<h1>\(escape(metadata.pipelineName))</h1>\n<p class=\"meta\">perturbot \(escape(metadata.version)), \(escape(metadata.date)); "
        body += metadata.wallSeconds.map { String(format: "wall time %.1f s", $0) } ?? "rebuilt from the cache"
        body += "; pipeline SHA-256 <code>\(escape(String(metadata.pipelineDigest.prefix(16))))…</code>. Values are mean ± std over seeds, "
        body += metadata.featureSpace ? "in feature space" : "in PCA space"
        body += "; lower is better unless a heading says otherwise; <b>bold</b>: best; ≈: cannot be told from the best; †: a solver did not converge.</p>\n"
        if let note = metadata.splitNote { body += "<p><b>Out-of-distribution split.</b> \(escape(note))</p>\n" }
        body += summary()
        if let screenSummary {
            body += "<section>" + Self.html(markdown: screenSummary.markdown(figures: false))
            body += screenSummary.figures().map { "<div class=\"figure\">\($0.svg)</div>\n" }.joined() + "</section>\n"
        }
        body += metricTables()
        body += drugSections()
        if !predictionFiles.isEmpty {
            body += "<section><h2>Saved predictions</h2><p>Open them in scanpy with <code>sc.read_h5ad(…)</code>:</p><ul>"
            body += predictionFiles.map { "<li><code>\(escape($0))</code></li>" }.joined() + "</ul></section>\n"
        }
        if !failures.isEmpty {
            body += "<section><h2>Failures</h2><table><tr><th>task</th><th>why</th></tr>"
            body += failures.map { "<tr><td><code>\(escape($0.task))</code></td><td>\(escape($0.message))</td></tr>" }.joined()
            body += "</table></section>\n"
        }
        body += "<pre id=\"selfcheck\" hidden></pre>\n"
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(metadata.pipelineName)) — perturbot report</title>
            <style>\(Self.style)</style></head>
            <body>
            \(body)<script>\(Self.script)</script>
            </body></html>

            """
    }

    // MARK: Sections

    private func summary() -> String {
        guard let primary = report.metrics.first else { return "" }
        var out = "<section id=\"summary\"><h2>Summary</h2>\n"
        out += "<p>Overall rank on <b>\(escape(primary))</b> over \(report.drugs.count) drug(s) × \(report.components.count) d; "
        out += "normalised score: 1 = as close to the treated cells as a second sample of them (the noise ceiling), 0 = no better than the unmoved control cells.</p>\n"
        out += "<table class=\"sortable\"><thead><tr><th>method</th><th>mean rank</th><th>best or ≈</th><th>median normalised score</th><th>fits not converged</th></tr></thead><tbody>\n"
        for (method, rank) in report.methodsByOverallRank(metric: primary) {
            let ties = report.bestOrTied(method: method, metric: primary)
            let scores = report.cells.filter { $0.method == method && $0.metric == primary && !$0.effectWithinNoise }.compactMap(\.normalised)
            let notConverged = report.cells.filter { $0.method == method && $0.metric == primary && !$0.allConverged }.count
            out += "<tr><td>\(escape(method))</td>" + numberCell(rank, digits: 2) + "<td data-value=\"\(ties.count)\">\(ties.count) of \(ties.of)</td>"
            out += numberCell(ScreenSummary.quantile(scores.filter(\.isFinite).sorted(), 0.5), digits: 3) + "<td data-value=\"\(notConverged)\">\(notConverged)</td></tr>\n"
        }
        out += "</tbody></table>\n"
        if let solverRuns, !solverRuns.rows.isEmpty {
            out += "<h3>Solver convergence</h3><table class=\"sortable\"><thead><tr><th>method</th><th>fits</th><th>Sinkhorn runs</th><th>runs not converged</th><th>most iterations</th></tr></thead><tbody>\n"
            for summary in solverRuns.methodSummaries() {
                let failed = summary.notConverged
                out += "<tr><td>\(escape(summary.method))</td><td data-value=\"\(summary.fits)\">\(summary.fits)</td><td data-value=\"\(summary.runs)\">\(summary.runs)</td>"
                out += "<td data-value=\"\(failed)\"\(failed > 0 ? " class=\"warn\"" : "")>\(failed)</td><td data-value=\"\(summary.mostIterations)\">\(summary.mostIterations)</td></tr>\n"
            }
            out += "</tbody></table>\n"
        }
        // A screen has its own heatmaps, per context and sorted by effect (the screen section).
        if screenSummary == nil, report.drugs.count > 1, let d = report.components.first {
            let rows = report.drugs.map { drug in
                (label: drug, values: report.methods.map { method -> Double? in
                    guard let cell = report.cell(drug: drug, components: d, method: method, metric: primary) else { return nil }
                    return cell.effectWithinNoise ? nil : cell.normalised
                })
            }
            if rows.contains(where: { $0.values.contains { $0 != nil } }) {
                out += "<h3>Normalised score, methods × drugs (\(escape(primary)), d = \(d))</h3>\n"
                out += "<div class=\"figure\">" + SVGCharts.heatmap(title: "\(primary): normalised score", rows: rows, columns: report.methods) + "</div>\n"
            }
        }
        return out + "</section>\n"
    }

    private func metricTables() -> String {
        var out = ""
        for metric in report.metrics {
            let higher = report.higherIsBetter.contains(metric)
            out += "<section><h2>\(escape(metric))\(higher ? " — higher is better" : "")</h2>\n"
            out += "<table class=\"sortable\"><thead><tr><th>drug</th><th>d</th>" + report.methods.map { "<th>\(escape($0))</th>" }.joined()
            out += "</tr></thead><tbody>\n"
            for drug in report.drugs {
                for d in report.components {
                    out += "<tr><td>\(escape(drug))</td><td data-value=\"\(d)\">\(d)</td>"
                    for method in report.methods {
                        guard let cell = report.cell(drug: drug, components: d, method: method, metric: metric) else {
                            out += "<td data-value=\"\">\(report.hasResults(drug: drug, components: d, method: method) ? "undefined" : "failed")</td>"
                            continue
                        }
                        var text = format(cell.mean) + " ± " + format(cell.std) + (cell.allConverged ? "" : " †")
                        if cell.rank == 1 { text = "<b>\(text)</b>" } else if cell.tiedWithBest == true { text = "≈ " + text }
                        out += "<td data-value=\"\(cell.mean.isFinite ? String(cell.mean) : "")\"\(cell.allConverged ? "" : " class=\"warn\"")>\(text)</td>"
                    }
                    out += "</tr>\n"
                }
            }
            out += "</tbody></table></section>\n"
        }
        out += normalisedTable()
        return out
    }

    /// The first metric's normalised score per drug, d and method, with the references it is
    /// computed from (half samples: `ResultsReport.halfSampleSuffix`).
    private func normalisedTable() -> String {
        guard let primary = report.metrics.first, report.cells.contains(where: { $0.metric == primary && $0.normalised != nil }) else { return "" }
        let half = primary + ResultsReport.halfSampleSuffix
        var out = "<section><h2>Normalised score (\(escape(primary))) — higher is better</h2>\n"
        out += "<p>(unmoved − method) / (unmoved − noise ceiling) on half samples of the held-out treated cells: 1 = as close as a second "
        out += "sample of them, 0 = no better than the unmoved control cells; \"within noise\": the drug's effect is not larger than "
        out += "the sampling spread, so no map can be told from the identity.</p>\n"
        out += "<table class=\"sortable\"><thead><tr><th>drug</th><th>d</th><th>noise ceiling</th><th>unmoved</th>"
        out += report.methods.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for drug in report.drugs {
            for d in report.components {
                out += "<tr><td>\(escape(drug))</td><td data-value=\"\(d)\">\(d)</td>"
                for name in [ResultsReport.noiseCeiling, ResultsReport.unmoved] {
                    let value = report.reference(name, drug: drug, components: d, metric: half)
                    out += value.map { "<td data-value=\"\($0.mean)\">\(format($0.mean))</td>" } ?? "<td data-value=\"\">—</td>"
                }
                for method in report.methods {
                    guard let cell = report.cell(drug: drug, components: d, method: method, metric: primary) else {
                        out += "<td data-value=\"\">—</td>"
                        continue
                    }
                    if cell.effectWithinNoise { out += "<td data-value=\"\">within noise</td>"; continue }
                    out += numberCell(cell.normalised, digits: 3)
                }
                out += "</tr>\n"
            }
        }
        return out + "</tbody></table></section>\n"
    }

    private func drugSections() -> String {
        let drugs = report.drugs.filter { figures[$0] != nil || movedFeatures[$0] != nil }
        guard !drugs.isEmpty else { return "" }
        var out = "<section><h2>Per drug</h2>\n"
        if drugs.count > Self.openSectionsLimit { out += "<p>\(drugs.count) drugs: click one to open it.</p>\n" }
        for drug in drugs {
            out += "<details\(drugs.count > Self.openSectionsLimit ? "" : " open")><summary>\(escape(drug))</summary>\n"
            if let figure = figures[drug] { out += "<div class=\"figure\">\(figure)</div>\n" }
            if let byMethod = movedFeatures[drug], let d = report.components.first {
                let shifts = report.methods.compactMap { method in byMethod[method]?[d].map { (method, $0) } }.filter { !$0.1.isEmpty }
                if let largest = shifts.flatMap({ $0.1.map(\.value) }).max(), largest > 0 {
                    out += "<h4>Features moved most (d = \(d); mean |T(x) − x| in units of each feature's spread)</h4>"
                    if let truth = trueFeatures[drug], !truth.isEmpty {
                        out += "<p class=\"truth\">The data's generator moves \(truth.count) feature(s) under \(escape(drug)): "
                        out += truth.sorted().map(escape).joined(separator: ", ") + "; a bar in green is one of them.</p>"
                    }
                    out += "<div class=\"bars\">"
                    for (method, features) in shifts {
                        out += "<div class=\"barset\"><div class=\"barhead\">\(escape(method))</div>"
                        for feature in features {
                            let known = trueFeatures[drug]?.contains(feature.name) == true
                            out += "<div class=\"bar\"><span class=\"name\" title=\"\(escape(feature.name))\">\(escape(feature.name))</span><span class=\"fill\(known ? " true" : "")\" style=\"width:\(String(format: "%.0f", 140 * feature.value / largest))px\"></span>"
                            out += "<span class=\"value\">\(String(format: "%.2f", feature.value))</span></div>"
                        }
                        out += "</div>"
                    }
                    out += "</div>\n"
                }
            }
            out += "</details>\n"
        }
        return out + "</section>\n"
    }

    // MARK: Pieces

    private func numberCell(_ value: Double?, digits: Int) -> String {
        guard let value, value.isFinite else { return "<td data-value=\"\">—</td>" }
        return "<td data-value=\"\(value)\">\(String(format: "%.\(digits)f", value))</td>"
    }

    private func format(_ value: Double) -> String { tableNumber(value) }

    /// The Markdown the other report sections are written in, as HTML: headings, paragraphs and
    /// pipe tables (sortable), with `code` and **bold**; images are left out (figures are inlined
    /// by the caller).
    static func html(markdown: String) -> String {
        func inline(_ text: String) -> String {
            var escaped = SVGCharts.escape(text)
            for (pattern, template) in [(#"\*\*([^*]+)\*\*"#, "<b>$1</b>"), (#"`([^`]+)`"#, "<code>$1</code>")] {
                escaped = escaped.replacingOccurrences(of: pattern, with: template, options: .regularExpression)
            }
            return escaped
        }
        func cells(_ line: Substring) -> [String] {
            line.trimmingCharacters(in: .whitespaces).dropFirst().dropLast().split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        var out = "", paragraph: [String] = [], table: [[String]] = []
        func flush() {
            if !paragraph.isEmpty { out += "<p>" + inline(paragraph.joined(separator: " ")) + "</p>\n"; paragraph = [] }
            if let header = table.first {
                out += "<table class=\"sortable\"><thead><tr>" + header.map { "<th>\(inline($0))</th>" }.joined() + "</tr></thead><tbody>\n"
                for row in table.dropFirst() {
                    out += "<tr>" + row.map { cell in
                        let number = Double(cell.split(separator: " ").first.map(String.init) ?? "")
                        return "<td\(number.map { " data-value=\"\($0)\"" } ?? "")>\(inline(cell))</td>"
                    }.joined() + "</tr>\n"
                }
                out += "</tbody></table>\n"
                table = []
            }
        }
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("|") {
                if !paragraph.isEmpty { flush() }
                let row = cells(line)
                if !row.allSatisfy({ $0.allSatisfy { $0 == "-" || $0 == ":" } }) { table.append(row) }
            } else if trimmed.hasPrefix("#") {
                flush()
                let level = Swift.min(6, trimmed.prefix { $0 == "#" }.count)
                out += "<h\(level)>" + inline(trimmed.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)) + "</h\(level)>\n"
            } else if trimmed.isEmpty || trimmed.hasPrefix("![") {
                flush()
            } else {
                if !table.isEmpty { flush() }
                paragraph.append(trimmed)
            }
        }
        flush()
        return out
    }

    private func escape(_ text: String) -> String { SVGCharts.escape(text) }

    static let style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#222;line-height:1.4}
        h1{margin-bottom:4px}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
        .meta{color:#555;font-size:90%}
        table{border-collapse:collapse;margin:8px 0;font-size:90%;display:block;overflow-x:auto;max-width:100%}
        th,td{border:1px solid #ddd;padding:3px 8px;text-align:right;white-space:nowrap}td:first-child,th:first-child{text-align:left}
        th{background:#f4f4f4;position:sticky;top:0}
        table.sortable th{cursor:pointer;user-select:none}table.sortable th:after{content:" ⇅";color:#aaa}
        table.sortable th.asc:after{content:" ▲";color:#333}table.sortable th.desc:after{content:" ▼";color:#333}
        td.warn{background:#fff3e0}
        details{margin:8px 0;border:1px solid #e5e5e5;border-radius:4px;padding:4px 10px}
        summary{cursor:pointer;font-weight:600}
        .figure{overflow-x:auto}.figure svg{max-width:100%;height:auto}
        .bars{display:flex;flex-wrap:wrap;gap:18px}.barset{min-width:330px}.barhead{font-weight:600;margin:4px 0}
        .bar{display:flex;align-items:center;gap:6px;font-size:85%}.bar .name{width:160px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        .bar .fill{display:inline-block;height:10px;background:#4c72b0}.bar .fill.true{background:#55a868}.truth{font-size:90%;color:#333}.bar .value{color:#555}
        """

    static let script = """
        (function(){
        var errors=[];window.addEventListener('error',function(e){errors.push(String(e.message));});
        function key(cell){var v=cell.getAttribute('data-value');if(v===null){return cell.textContent.trim().toLowerCase();}
        return v===''?null:parseFloat(v);}
        function sortBy(table,index,descending){var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
        rows.sort(function(a,b){var x=key(a.cells[index]),y=key(b.cells[index]);
        if(x===null&&y===null)return 0;if(x===null)return 1;if(y===null)return -1;
        var order=(typeof x==='number'&&typeof y==='number')?x-y:String(x).localeCompare(String(y));return descending?-order:order;});
        rows.forEach(function(r){body.appendChild(r);});
        Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){th.classList.remove('asc','desc');
        if(i===index)th.classList.add(descending?'desc':'asc');});}
        Array.prototype.forEach.call(document.querySelectorAll('table.sortable'),function(table){
        Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,index){th.addEventListener('click',function(){
        sortBy(table,index,th.classList.contains('asc'));});});});
        if(location.hash==='#selfcheck'){var out=document.getElementById('selfcheck');var problem='';
        var tables=document.querySelectorAll('table.sortable');
        for(var t=0;t<tables.length&&!problem;t++){var table=tables[t];var th=table.tHead.rows[0].cells[1];
        if(!th)continue;th.click();var first=[];Array.prototype.forEach.call(table.tBodies[0].rows,function(r){first.push(key(r.cells[1]));});
        th.click();var second=[];Array.prototype.forEach.call(table.tBodies[0].rows,function(r){second.push(key(r.cells[1]));});
        var numbers=function(list){return list.filter(function(v){return typeof v==='number';});};
        var a=numbers(first),b=numbers(second);
        for(var i=1;i<a.length;i++){if(a[i-1]>a[i]){problem='table '+t+': not ascending after one click';break;}}
        for(var j=1;j<b.length&&!problem;j++){if(b[j-1]<b[j]){problem='table '+t+': not descending after two clicks';}}}
        out.hidden=false;out.textContent=errors.length?('script error: '+errors[0]):(problem||'ok: '+tables.length+' tables sort');}
        })();
        """
}
