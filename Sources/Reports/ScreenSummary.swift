import Foundation

/// The first section of a screen's report: per context (cell line), each method's mean rank and
/// normalised score over the conditions; a heatmap of conditions × methods sorted by effect size;
/// and dose-response curves of the strongest drugs. At thousands of conditions the per-condition
/// tables live in table.csv, not in Markdown.
///
/// A condition's effect size is the distance of its held-out treated cells from the held-out
/// control cells beyond a second sample of the treated cells — (unmoved − noise ceiling) of the
/// half-sample scores — the scale on which the normalised score is 0 (unmoved) to 1 (ceiling).
public struct ScreenSummary: Sendable {
    /// One problem of the report: its id (`<context>/<condition>` or the condition), context,
    /// drug (the condition without its dose) and dose.
    public struct Condition: Sendable, Equatable {
        public let id: String
        public let context: String
        public let drug: String
        /// The last condition column as a number, when the condition has several columns and
        /// that one is numeric (`condition_key: [drug, dose]`).
        public let dose: Double?

        /// Splits a problem id as `ConditionTable` writes it: the context before the first '/',
        /// the condition's `columns` values joined by '_' (the dose is the last).
        public init(id: String, hasContext: Bool, columns: Int) {
            self.id = id
            let parts: (context: String?, drug: String) = hasContext ? splitProblemID(id) : (nil, id)
            context = parts.context ?? ""
            let condition = parts.drug
            if columns > 1, let separator = condition.lastIndex(of: "_"), let value = Double(condition[condition.index(after: separator)...]) {
                drug = String(condition[..<separator])
                dose = value
            } else {
                drug = condition
                dose = nil
            }
        }
    }

    public let report: ResultsReport
    public let conditions: [Condition]
    /// The metric summarised (the pipeline's first).
    public let metric: String
    /// The d of the summary (the first column).
    public let components: Int
    /// Dose-response panels per context.
    public let strongestDrugs: Int

    public init(report: ResultsReport, conditions: [Condition], strongestDrugs: Int = 6) {
        self.report = report
        self.conditions = conditions
        metric = report.metrics.first ?? ""
        components = report.components.first ?? 0
        self.strongestDrugs = strongestDrugs
    }

    /// The contexts in order of first appearance ("" for a screen without contexts).
    public var contexts: [String] {
        var seen: Set<String> = []
        return conditions.map(\.context).filter { seen.insert($0).inserted }
    }

    /// (unmoved − noise ceiling) of the half-sample scores, mean over seeds; nil without them.
    public func effect(_ condition: Condition) -> Double? {
        let key = metric + ResultsReport.halfSampleSuffix
        guard let unmoved = report.reference(ResultsReport.unmoved, drug: condition.id, components: components, metric: key),
              let ceiling = report.reference(ResultsReport.noiseCeiling, drug: condition.id, components: components, metric: key) else { return nil }
        let sign = report.higherIsBetter.contains(metric) ? -1.0 : 1.0
        return sign * (unmoved.mean - ceiling.mean)
    }

    /// One context's row per method: mean rank, best-or-tied count, and the median and quartiles
    /// of the normalised score over the conditions whose effect is not within noise. Not its
    /// mean: a condition whose effect barely exceeds the noise has a denominator near 0, and one
    /// such ratio (in the hundreds) would decide the mean of hundreds of conditions.
    public struct MethodSummary: Sendable, Equatable {
        public let method: String
        public let meanRank: Double?
        public let bestOrTied: Int
        public let ranked: Int
        /// Conditions with a normalised score (effect not within noise).
        public let scored: Int
        public let medianNormalised: Double?
        public let lowerQuartile: Double?
        public let upperQuartile: Double?
    }

    /// The q-quantile of ascending values (linear between order statistics, numpy's default).
    static func quantile(_ sorted: [Double], _ q: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let position = q * Double(sorted.count - 1), low = Int(position.rounded(.down))
        let high = Swift.min(low + 1, sorted.count - 1), fraction = position - Double(low)
        return sorted[low] + (sorted[high] - sorted[low]) * fraction
    }

    public func methodSummaries(context: String) -> [MethodSummary] {
        let ids = conditions.filter { $0.context == context }.map(\.id)
        return report.methods.map { method in
            let cells = ids.compactMap { report.cell(drug: $0, components: components, method: method, metric: metric) }
            let ranks = cells.map(\.rank).filter(\.isFinite)
            let normalised = cells.compactMap(\.normalised).filter(\.isFinite).sorted()
            return MethodSummary(method: method, meanRank: ranks.isEmpty ? nil : ranks.reduce(0, +) / Double(ranks.count),
                                 bestOrTied: cells.filter { $0.tiedWithBest == true || $0.rank == 1 }.count, ranked: cells.count,
                                 scored: normalised.count, medianNormalised: Self.quantile(normalised, 0.5),
                                 lowerQuartile: Self.quantile(normalised, 0.25), upperQuartile: Self.quantile(normalised, 0.75))
        }
    }

    /// The drugs of a context with the largest effect at any dose, strongest first.
    public func strongest(context: String) -> [String] {
        var best: [String: Double] = [:]
        for condition in conditions where condition.context == context {
            guard let effect = effect(condition) else { continue }
            best[condition.drug] = Swift.max(best[condition.drug] ?? -.infinity, effect)
        }
        return best.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(strongestDrugs).map(\.key)
    }

    /// A file-name-safe name.
    static func fileName(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    /// The SVG figures: per context, the heatmap and each strongest drug's dose-response curves.
    public func figures() -> [(name: String, svg: String)] {
        var files: [(String, String)] = []
        let key = metric + ResultsReport.halfSampleSuffix
        for context in contexts {
            let prefix = context.isEmpty ? "screen" : "screen_\(Self.fileName(context))"
            let rows = conditions.filter { $0.context == context }
                .map { ($0, effect($0)) }
                .sorted { ($0.1 ?? -.infinity, $1.0.id) > ($1.1 ?? -.infinity, $0.0.id) }
            let heatmap = SVGCharts.heatmap(
                title: "\(context.isEmpty ? "" : context + ": ")normalised \(metric), d = \(components), conditions by effect size",
                rows: rows.map { row in
                    let label = context.isEmpty ? row.0.id : String(row.0.id.dropFirst(context.count + 1))
                    return (label, report.methods.map { method -> Double? in
                        guard let cell = report.cell(drug: row.0.id, components: components, method: method, metric: metric),
                              !cell.effectWithinNoise else { return nil }
                        return cell.normalised
                    })
                }, columns: report.methods)
            files.append(("\(prefix)_heatmap.svg", heatmap))
            for drug in strongest(context: context) {
                let doses = conditions.filter { $0.context == context && $0.drug == drug }.sorted { ($0.dose ?? 0) < ($1.dose ?? 0) }
                guard doses.contains(where: { $0.dose != nil }) else { continue }
                func series(_ name: String, _ value: (Condition) -> Double?) -> (name: String, points: [(x: Double, y: Double, label: String)]) {
                    (name, doses.compactMap { condition in
                        guard let dose = condition.dose, dose > 0, let y = value(condition) else { return nil }
                        return (log10(dose), y, "")
                    })
                }
                var lines = [
                    series("treated vs control") { report.reference(ResultsReport.unmoved, drug: $0.id, components: components, metric: key)?.mean },
                    series("noise ceiling") { report.reference(ResultsReport.noiseCeiling, drug: $0.id, components: components, metric: key)?.mean },
                ]
                for method in report.methods {
                    lines.append(series(method) { report.reference(method, drug: $0.id, components: components, metric: key)?.mean })
                }
                files.append(("\(prefix)_\(Self.fileName(drug))_dose_response.svg", SVGCharts.lines(
                    title: "\(context.isEmpty ? "" : context + ": ")\(drug), \(metric) to the treated cells", xLabel: "log10 dose",
                    yLabel: "\(metric) (half sample)", series: lines)))
            }
        }
        return files
    }

    /// The summary section of report.md; with `figures`, the heatmaps and dose-response curves
    /// of `figures()` are shown (written beside it).
    public func markdown(figures: Bool) -> String {
        var out = "\n## Screen summary (\(metric), d = \(components))\n\n"
        out += "\(conditions.count.grouped) conditions"
        out += contexts.count > 1 || contexts.first != "" ? " in \(contexts.count) contexts" : ""
        out += ". Per context, each method's mean rank over the conditions (1 = best), the conditions where it is the best or "
        out += "cannot be told from the best, and its normalised score — (unmoved − method) / (unmoved − noise ceiling): 1 as "
        out += "close to the treated cells as a second sample of them, 0 no better than leaving the control cells in place — "
        out += "as its median and quartiles over the conditions whose effect is not within noise (not its mean: where an effect "
        out += "barely exceeds the noise the ratio's denominator is near 0, and a few such ratios would decide a mean). Every "
        out += "condition's numbers are in table.csv.\n"
        for context in contexts {
            let ids = conditions.filter { $0.context == context }
            let withinNoise = ids.filter { condition in
                report.methods.contains { report.cell(drug: condition.id, components: components, method: $0, metric: metric)?.effectWithinNoise == true }
            }.count
            let prefix = context.isEmpty ? "screen" : "screen_\(Self.fileName(context))"
            out += "\n### \(context.isEmpty ? "All conditions" : context)\n\n"
            out += "\(ids.count.grouped) conditions, \(withinNoise.grouped) with an effect within noise (no map can be told "
            out += "from the identity there).\n\n"
            out += "| method | mean rank | best or ≈ | median normalised | normalised, 25–75 % |\n|---|---|---|---|---|\n"
            let summaries = methodSummaries(context: context).sorted { ($0.meanRank ?? .infinity) < ($1.meanRank ?? .infinity) }
            for summary in summaries {
                out += "| \(summary.method) | \(summary.meanRank.map { String(format: "%.2f", $0) } ?? "—") | "
                out += "\(summary.bestOrTied.grouped) of \(summary.ranked.grouped) | "
                out += "\(summary.medianNormalised.map { String(format: "%.3f", $0 + 0) } ?? "—") | "
                out += (summary.lowerQuartile.flatMap { low in summary.upperQuartile.map { String(format: "%.3f to %.3f", low + 0, $0 + 0) } } ?? "—")
                out += " |\n"
            }
            guard figures else { continue }
            out += "\n![\(context.isEmpty ? "heatmap" : context + " heatmap")](\(prefix)_heatmap.svg)\n"
            let drugs = strongest(context: context).filter { drug in conditions.contains { $0.context == context && $0.drug == drug && $0.dose != nil } }
            if !drugs.isEmpty {
                out += "\nDose-response of the \(drugs.count) drugs with the largest effect: the distance of the treated cells from the "
                out += "control cells (treated vs control), from a second sample of themselves (noise ceiling), and from each method's "
                out += "prediction, on equal half samples.\n\n"
                out += drugs.map { "![\(context) \($0)](\(prefix)_\(Self.fileName($0))_dose_response.svg)" }.joined(separator: " ") + "\n"
            }
        }
        return out
    }
}
