/// Per perturbation, one value per metric (nil: not defined for that perturbation, an empty
/// cell), with cell-eval's `results.csv` and `agg_results.csv` forms.
public struct ScoreTable: Sendable {
    public let perturbations: [String]
    public let columns: [String]
    public let values: [String: [String: Double?]]

    public init(perturbations: [String], columns: [String], values: [String: [String: Double?]]) {
        self.perturbations = perturbations
        self.columns = columns
        self.values = values
    }

    public func value(_ perturbation: String, _ metric: String) -> Double? {
        values[perturbation]?[metric] ?? nil
    }

    /// One row per perturbation: `perturbation`, then the metrics.
    public func resultsCSV() -> String {
        var lines = [(["perturbation"] + columns).joined(separator: ",")]
        for perturbation in perturbations {
            let cells = columns.map { value(perturbation, $0).map(CSVField.number) ?? "" }
            lines.append(([CSVField.quoted(perturbation)] + cells).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// polars' `describe()` of the metric columns, as cell-eval's `agg_results.csv`: count and
    /// null count; the mean (nulls skipped, NaN kept) and sample std; min and max (NaN skipped);
    /// the 25/50/75 % percentiles of the nearest rank, round((n − 1)q), NaN sorted last.
    public func aggregateCSV() -> String {
        let statistics = ["count", "null_count", "mean", "std", "min", "25%", "50%", "75%", "max"]
        var table: [[String]] = statistics.map { [$0] }
        for column in columns {
            let present = perturbations.compactMap { value($0, column) }
            let nulls = perturbations.count - present.count
            let n = Double(present.count)
            let mean = present.isEmpty ? nil : present.reduce(0, +) / n
            let std: Double? = present.count < 2 ? nil : {
                guard let mean else { return nil }
                return (present.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
            }()
            let numbers = present.filter { !$0.isNaN }
            let sorted = numbers.sorted() + Array(repeating: Double.nan, count: present.count - numbers.count)
            func percentile(_ q: Double) -> Double? {
                guard !sorted.isEmpty else { return nil }
                return sorted[Int((Double(sorted.count - 1) * q).rounded(.toNearestOrAwayFromZero))]
            }
            let cells: [Double?] = [Double(present.count), Double(nulls), mean, std, numbers.min(), percentile(0.25),
                                    percentile(0.5), percentile(0.75), numbers.max()]
            for (row, cell) in cells.enumerated() { table[row].append(cell.map(CSVField.number) ?? "") }
        }
        return ([(["statistic"] + columns).joined(separator: ",")] + table.map { $0.joined(separator: ",") })
            .joined(separator: "\n") + "\n"
    }
}
