import Foundation

/// One measured value: a metric of one method's prediction for one (drug, d_PCA, seed).
public struct ResultRow: Sendable, Equatable {
    public let drug: String
    public let components: Int
    public let method: String
    public let seed: UInt64
    public let metric: String
    public let value: Double
    public let converged: Bool
    public let seconds: Double

    public init(drug: String, components: Int, method: String, seed: UInt64, metric: String, value: Double,
                converged: Bool, seconds: Double) {
        self.drug = drug
        self.components = components
        self.method = method
        self.seed = seed
        self.metric = metric
        self.value = value
        self.converged = converged
        self.seconds = seconds
    }
}

/// mean ± std of one method at one (drug, d_PCA) for one metric, and its rank there.
public struct AggregateCell: Sendable, Equatable {
    public let drug: String
    public let components: Int
    public let method: String
    public let metric: String
    public let mean: Double
    /// Sample standard deviation over seeds (0 for a single seed).
    public let std: Double
    public let seeds: Int
    /// 1 = lowest mean among the methods at this (drug, d_PCA, metric); ties share the average rank.
    public let rank: Double
    public let allConverged: Bool
    /// (unmoved − method) / (unmoved − noise ceiling), from the means over seeds of the metric's
    /// half-sample scores (metric + `halfSampleSuffix`) of the method and the two references at
    /// this (drug, d_PCA): 1 at the noise ceiling, 0 no better than the unmoved control cells;
    /// nil without them, or when the drug's effect is within noise (`effectWithinNoise`).
    public let normalised: Double?
    /// The unmoved control is no farther from the treated cells than a second sample of them is
    /// (unmoved − ceiling ≤ the ceiling's standard deviation over seeds, or ≤ 0 with one seed): no
    /// map can be told from the identity at this sample size, and there is no normalised score.
    public let effectWithinNoise: Bool
    /// The `ResultsReport.confidenceLevel` t-interval of the mean over seeds,
    /// mean ± t(ν = seeds − 1)·std/√seeds; nil with one seed.
    public let confidenceInterval: ClosedRange<Double>?
    /// Whether the method cannot be told from the best one of its column: it is the best, or its
    /// paired difference from the best over the seeds both have (each seed is one split, the same
    /// cells for every method) has a `confidenceLevel` t-interval that reaches 0. Nil when that
    /// cannot be said: fewer than 2 shared seeds.
    public let tiedWithBest: Bool?
}

/// The tables of a pipeline report, computed from the result rows alone (so `report.md` and
/// `table.csv` can always be recomputed from `results.csv`). Lower is better for every metric.
/// Rows of the pseudo-methods `noiseCeiling` and `unmoved` are the references of the normalised
/// score; they are listed in results.csv and never ranked.
public struct ResultsReport: Sendable {
    /// The metric between two halves of the held-out treated cells.
    public static let noiseCeiling = "(noise ceiling)"
    /// The suffix of a metric's half-sample scores, the scale of the references.
    public static let halfSampleSuffix = " (half sample)"
    /// The metric between the held-out control cells, unmoved, and the treated cells.
    public static let unmoved = "(unmoved)"

    public let rows: [ResultRow]
    public let drugs: [String]
    public let components: [Int]
    public let methods: [String]
    public let metrics: [String]
    /// The metrics where higher is better (cell-eval's correlations, overlaps and AUCs); every
    /// other metric is a distance or an error, lower is better.
    public let higherIsBetter: Set<String>
    /// Metrics shown with their mean but never ranked (counts, such as the number of DE genes):
    /// their rank is NaN and nothing is tied.
    public let unranked: Set<String>
    public let cells: [AggregateCell]
    /// Whether the CSV files split each drug id `<context>/<condition>` into a `context` and a
    /// `drug` column (a screen with `data.context_key`).
    public var contextColumn = false

    /// Where a value or a cell sits: (drug, d, method, metric).
    private struct Place: Hashable {
        let drug: String
        let components: Int
        let method: String
        let metric: String
    }

    /// The rows and the cells by place, so that a report of thousands of conditions is built in
    /// time linear in its rows rather than a scan of all rows per cell.
    private let rowsByPlace: [Place: [ResultRow]]
    private let cellsByPlace: [Place: AggregateCell]
    /// (drug, d, method) with any cell.
    private let placesWithResults: Set<Place>

    /// The confidence level of the intervals and of the ties with the best method.
    public static let confidenceLevel = 0.95

    /// `drugs`, `components`, `methods` and `metrics` give the order of tables, columns and rows.
    public init(rows: [ResultRow], drugs: [String], components: [Int], methods: [String], metrics: [String],
                higherIsBetter: Set<String> = [], unranked: Set<String> = []) {
        self.rows = rows
        self.higherIsBetter = higherIsBetter
        self.unranked = unranked
        self.drugs = drugs
        self.components = components
        self.methods = methods
        self.metrics = metrics
        let index = Dictionary(grouping: rows) { Place(drug: $0.drug, components: $0.components, method: $0.method, metric: $0.metric) }
        rowsByPlace = index
        var cells: [AggregateCell] = []
        func mean(_ method: String, _ drug: String, _ d: Int, _ metric: String) -> Double? {
            Self.reference(index, method, drug: drug, components: d, metric: metric)?.mean
        }
        for drug in drugs {
            for d in components {
                for metric in metrics {
                    // Signed so that lower is better.
                    let sign: Double = higherIsBetter.contains(metric) ? -1 : 1
                    let half = metric + Self.halfSampleSuffix
                    let ceiling = Self.reference(index, Self.noiseCeiling, drug: drug, components: d, metric: half)
                    let still = mean(Self.unmoved, drug, d, half)
                    let withinNoise = ceiling.flatMap { ceiling in still.map { sign * ($0 - ceiling.mean) <= ceiling.std } } ?? false
                    var group: [(method: String, summary: SeedSummary, converged: Bool)] = []
                    for method in methods {
                        let values = index[Place(drug: drug, components: d, method: method, metric: metric)] ?? []
                        guard !values.isEmpty else { continue }
                        group.append((method, SeedSummary(values), values.allSatisfy(\.converged)))
                    }
                    let best = group.min { sign * $0.summary.mean < sign * $1.summary.mean }
                    for entry in group {
                        let below = group.filter { sign * $0.summary.mean < sign * entry.summary.mean }.count
                        let equal = group.filter { $0.summary.mean == entry.summary.mean }.count
                        var normalised: Double?
                        if let ceiling, let still, !withinNoise, let score = mean(entry.method, drug, d, half) {
                            normalised = (still - score) / (still - ceiling.mean)
                        }
                        let ranked = !unranked.contains(metric)
                        let tied: Bool? = best.flatMap { best in
                            !ranked ? nil : below == 0 ? true : entry.summary.tiedWith(best.summary, sign: sign)
                        }
                        cells.append(AggregateCell(drug: drug, components: d, method: entry.method, metric: metric,
                                                   mean: entry.summary.mean, std: entry.summary.std, seeds: entry.summary.count,
                                                   rank: ranked ? Double(below) + Double(equal + 1) / 2 : .nan, allConverged: entry.converged,
                                                   normalised: normalised, effectWithinNoise: withinNoise,
                                                   confidenceInterval: entry.summary.confidenceInterval, tiedWithBest: tied))
                    }
                }
            }
        }
        self.cells = cells
        cellsByPlace = Dictionary(cells.map { (Place(drug: $0.drug, components: $0.components, method: $0.method, metric: $0.metric), $0) },
                                  uniquingKeysWith: { first, _ in first })
        placesWithResults = Set(cells.map { Place(drug: $0.drug, components: $0.components, method: $0.method, metric: "") })
    }

    /// mean ± std over seeds of a reference (`noiseCeiling`, `unmoved`), nil without rows.
    public func reference(_ name: String, drug: String, components: Int, metric: String) -> (mean: Double, std: Double)? {
        Self.reference(rowsByPlace, name, drug: drug, components: components, metric: metric)
    }

    private static func reference(_ index: [Place: [ResultRow]], _ name: String, drug: String, components: Int, metric: String)
        -> (mean: Double, std: Double)? {
        let values = (index[Place(drug: drug, components: components, method: name, metric: metric)] ?? []).map(\.value)
        return values.isEmpty ? nil : SeedSummary.meanAndStd(values)
    }

    /// Whether the method has any value at (drug, d), of any metric: a missing cell is then a
    /// value the metric leaves undefined, not a failed task.
    public func hasResults(drug: String, components: Int, method: String) -> Bool {
        placesWithResults.contains(Place(drug: drug, components: components, method: method, metric: ""))
    }

    public func cell(drug: String, components: Int, method: String, metric: String) -> AggregateCell? {
        cellsByPlace[Place(drug: drug, components: components, method: method, metric: metric)]
    }

    /// In how many of the (drug, d_PCA) columns of `metric` the method is the best or cannot be
    /// told from it (`AggregateCell.tiedWithBest`), and in how many it has a result.
    /// The methods from the best overall rank on `metric` to the worst (those without one last).
    public func methodsByOverallRank(metric: String) -> [(method: String, rank: Double?)] {
        methods.map { ($0, overallRank(method: $0, metric: metric)) }.sorted { ($0.1 ?? .infinity) < ($1.1 ?? .infinity) }
    }

    public func bestOrTied(method: String, metric: String) -> (count: Int, of: Int) {
        let mine = cells.filter { $0.method == method && $0.metric == metric }
        return (mine.filter { $0.tiedWithBest == true }.count, mine.count)
    }

    /// A method's rank averaged over every (drug, d_PCA) where it has a result for `metric`.
    public func overallRank(method: String, metric: String) -> Double? {
        let ranks = cells.filter { $0.method == method && $0.metric == metric && $0.rank.isFinite }.map(\.rank)
        return ranks.isEmpty ? nil : ranks.reduce(0, +) / Double(ranks.count)
    }

    // MARK: CSV

    public static let resultsHeader = "drug,d_pca,method,seed,metric,value,converged,seconds"
    /// The header of a screen's results.csv: the context (the cell line) before the drug.
    public static let contextResultsHeader = "context," + resultsHeader

    private func drugFields(_ drug: String) -> String { drugCSVFields(drug, contextColumn: contextColumn).joined(separator: ",") }

    /// `results.csv`: one row per value, in table order.
    public func resultsCSV() -> String {
        var lines = [contextColumn ? Self.contextResultsHeader : Self.resultsHeader]
        for row in orderedRows() {
            lines.append([drugFields(row.drug), String(row.components), csvField(row.method), String(row.seed), csvField(row.metric),
                          number(row.value), String(row.converged), String(format: "%.3f", row.seconds)].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `table.csv`: the aggregated cells and ranks (no timings, so a rerun reproduces it byte for byte).
    public func tableCSV() -> String {
        var lines = [(contextColumn ? "context," : "") + "drug,method,d_pca,metric,mean,std,seeds,rank,converged,noise_ceiling,normalised,ci_low,ci_high,tied_with_best"]
        for drug in drugs {
            for metric in metrics {
                for method in methods {
                    for d in components {
                        guard let cell = cell(drug: drug, components: d, method: method, metric: metric) else { continue }
                        let ceiling = reference(Self.noiseCeiling, drug: drug, components: d, metric: metric + Self.halfSampleSuffix)
                        lines.append([drugFields(drug), csvField(method), String(d), csvField(metric), number(cell.mean),
                                      number(cell.std), String(cell.seeds), number(cell.rank), String(cell.allConverged),
                                      ceiling.map { number($0.mean) } ?? "", cell.normalised.map(number) ?? "",
                                      cell.confidenceInterval.map { number($0.lowerBound) } ?? "",
                                      cell.confidenceInterval.map { number($0.upperBound) } ?? "",
                                      cell.tiedWithBest.map { String($0) } ?? ""]
                            .joined(separator: ","))
                    }
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Reads `results.csv` back (for checking the tables); a screen's `context` column joins its
    /// drug as `<context>/<drug>`, the problem id the tables are indexed by.
    public static func parseResultsCSV(_ text: String) throws -> [ResultRow] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let contexts = lines.first == contextResultsHeader
        guard lines.first == resultsHeader || contexts else {
            throw ReportError("results.csv: first line must be \(resultsHeader) (or \(contextResultsHeader))")
        }
        lines.removeFirst()
        return try lines.enumerated().map { offset, line in
            var fields = splitCSV(line)
            if contexts, fields.count == 9 {
                let context = fields.removeFirst()
                if !context.isEmpty { fields[0] = context + "/" + fields[0] }
            }
            guard fields.count == 8, let d = Int(fields[1]), let seed = UInt64(fields[3]), let value = Double(fields[5]),
                  let converged = Bool(fields[6]), let seconds = Double(fields[7]) else {
                throw ReportError("results.csv: line \(offset + 2): expected \(resultsHeader)")
            }
            return ResultRow(drug: fields[0], components: d, method: fields[2], seed: seed, metric: fields[4], value: value,
                             converged: converged, seconds: seconds)
        }
    }

    private func orderedRows() -> [ResultRow] {
        // Positions by dictionary, each row's sort key computed once: a screen sorts 500,000
        // rows over 2,256 drugs.
        func positions(_ list: [String]) -> [String: Int] {
            Dictionary(list.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
        let drug = positions(drugs), method = positions(methods), metric = positions(metrics)
        // Methods not listed (the references) after the listed ones, by name.
        let keyed = rows.map { row in
            (row: row, drug: drug[row.drug] ?? drugs.count, method: method[row.method] ?? methods.count,
             metric: metric[row.metric] ?? metrics.count)
        }
        return keyed.sorted { x, y in
            let a = (x.drug, x.row.components, x.method, x.row.method, x.row.seed)
            let b = (y.drug, y.row.components, y.method, y.row.method, y.row.seed)
            if a != b { return a < b }
            return (x.metric, x.row.metric) < (y.metric, y.row.metric)
        }.map(\.row)
    }

}

/// One method's values at one (drug, d_PCA, metric), by seed.
struct SeedSummary {
    let bySeed: [UInt64: Double]
    let mean: Double
    /// Sample standard deviation (0 for one seed).
    let std: Double
    var count: Int { bySeed.count }

    init(_ rows: [ResultRow]) {
        bySeed = Dictionary(rows.map { ($0.seed, $0.value) }, uniquingKeysWith: { first, _ in first })
        let values = rows.map(\.value)
        (mean, std) = Self.meanAndStd(values)
    }

    static func meanAndStd(_ values: [Double]) -> (mean: Double, std: Double) {
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.count > 1 ? values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1) : 0
        return (mean, variance.squareRoot())
    }

    /// The t-interval of the mean; nil with one value.
    var confidenceInterval: ClosedRange<Double>? {
        guard count >= 2, mean.isFinite, std.isFinite else { return nil }
        let half = Self.halfWidth(std: std, count: count)
        return (mean - half)...(mean + half)
    }

    /// Whether the paired differences (self − best, signed so lower is better) over the shared
    /// seeds have a t-interval reaching 0; nil with fewer than 2 shared seeds.
    func tiedWith(_ best: SeedSummary, sign: Double) -> Bool? {
        let differences = bySeed.sorted { $0.key < $1.key }.compactMap { seed, value in best.bySeed[seed].map { sign * (value - $0) } }
        guard differences.count >= 2 else { return nil }
        let (mean, std) = Self.meanAndStd(differences)
        guard mean.isFinite, std.isFinite else { return nil }
        return mean - Self.halfWidth(std: std, count: differences.count) <= 0
    }

    static func halfWidth(std: Double, count: Int) -> Double {
        let t = StudentT.quantile(0.5 + ResultsReport.confidenceLevel / 2, degreesOfFreedom: Double(count - 1))
        return t * std / Double(count).squareRoot()
    }
}

public struct ReportError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Shortest text that reads back as the same Double.
func number(_ value: Double) -> String {
    value.isFinite ? "\(value)" : "nan"
}

/// A problem id `<context>/<condition>` (Stages' `ConditionTable` writes them for a screen) split
/// at its first '/'; no context when it has none.
func splitProblemID(_ id: String) -> (context: String?, drug: String) {
    guard let slash = id.firstIndex(of: "/") else { return (nil, id) }
    return (String(id[..<slash]), String(id[id.index(after: slash)...]))
}

/// A drug (problem id) as the CSV files write it: `context`, `drug` with a context column (empty
/// context for an id without one), else `drug` alone.
func drugCSVFields(_ id: String, contextColumn: Bool) -> [String] {
    guard contextColumn else { return [csvField(id)] }
    let parts = splitProblemID(id)
    return [csvField(parts.context ?? ""), csvField(parts.drug)]
}

func csvField(_ text: String) -> String {
    text.contains(",") || text.contains("\"") ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
}

func splitCSV(_ line: String) -> [String] {
    var fields: [String] = [], current = "", quoted = false
    let characters = Array(line)
    var index = 0
    while index < characters.count {
        let character = characters[index]
        index += 1
        if quoted {
            if character == "\"", index < characters.count, characters[index] == "\"" {
                current.append("\"")
                index += 1
            } else if character == "\"" {
                quoted = false
            } else {
                current.append(character)
            }
        } else if character == "\"" {
            quoted = true
        } else if character == "," {
            fields.append(current)
            current = ""
        } else {
            current.append(character)
        }
    }
    fields.append(current)
    return fields
}
