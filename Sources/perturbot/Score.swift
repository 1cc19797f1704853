import AnnData
import ArgumentParser
import Foundation
import Scoring
import Stages

/// `perturbot score`: a prediction scored against real cells in gene space, with cell-eval's
/// file convention and metric names (docs/metrics.md).
struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score predicted cells against real ones in gene space (cell-eval's metrics, pdex's DE, pertpy's energy distance).",
        discussion: """
            Both files hold log1p-normalised expression of the same genes, in the same order, and \
            the control cells; --pert-col names each cell's perturbation. The predicted file's \
            non-control cells are the predictions. Prints one row per perturbation (or --json); \
            --out DIR writes results.csv, agg_results.csv, real_de.csv and pred_de.csv as cell-eval does; \
            --ceiling adds cell-eval's data ceiling (the real cells scored against a bootstrap second sample of themselves).
            """)

    @Option(parsing: .unconditional, help: "The observed cells (.h5ad).")
    var real: String

    @Option(parsing: .unconditional, help: "The predicted cells (.h5ad).")
    var pred: String

    @Option(parsing: .unconditional, help: "The obs column of each cell's perturbation.")
    var pertCol = "target"

    @Option(parsing: .unconditional, help: "The control label.")
    var controlPert = "non-targeting"

    @Option(parsing: .unconditional, help: "Only these metrics, comma-separated (default: all; `perturbot score --help` lists them in docs/metrics.md).")
    var metrics: String?

    @Option(parsing: .unconditional, help: "Folder for results.csv, agg_results.csv, real_de.csv and pred_de.csv.")
    var out: String?

    @Flag(help: "Print one JSON object: perturbation → {metric → value} (null where undefined); with --ceiling, {\"results\": …, \"ceiling\": …}.")
    var json = false

    @Flag(help: "Also score the real data against itself, cell-eval's data ceiling: each group drawn 2n times with replacement, the first n draws scored against the next n (ceiling_results.csv, agg_ceiling_results.csv).")
    var ceiling = false

    @Option(parsing: .unconditional, help: "Seed of the ceiling's draws.")
    var ceilingSeed: UInt64 = 0

    func run() throws {
        try reportingErrors {
            let chosen = try chosenMetrics()
            let (realData, predictedData) = try ScoreInput.read(real: real, predicted: pred, perturbationColumn: pertCol,
                                                                control: controlPert)
            let outcome = try GeneSpaceScore.run(real: realData, predicted: predictedData, control: controlPert,
                                                 wanted: metrics == nil ? nil : Set(chosen))
            let table = ScoreTable(perturbations: outcome.table.perturbations, columns: chosen, values: outcome.table.values)
            var ceilingTable: ScoreTable?
            if ceiling {
                let halves = CeilingSplit.split(realData, seed: ceilingSeed)
                let bound = try GeneSpaceScore.run(real: halves.real, predicted: halves.predicted, control: controlPert,
                                                   wanted: metrics == nil ? nil : Set(chosen))
                ceilingTable = ScoreTable(perturbations: bound.table.perturbations, columns: chosen, values: bound.table.values)
            }
            if let out {
                let folder = URL(fileURLWithPath: out, isDirectory: true)
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                var files = [("results.csv", table.resultsCSV()), ("agg_results.csv", table.aggregateCSV()),
                             ("real_de.csv", outcome.realDE.csv()), ("pred_de.csv", outcome.predictedDE.csv())]
                if let ceilingTable {
                    files += [("ceiling_results.csv", ceilingTable.resultsCSV()), ("agg_ceiling_results.csv", ceilingTable.aggregateCSV())]
                }
                for (name, text) in files {
                    try AtomicFile.write(Data(text.utf8), to: folder.appendingPathComponent(name).path)
                }
            }
            func object(_ table: ScoreTable) -> JSONValue {
                JSONValue.object(table.perturbations.map { perturbation in
                    (perturbation, JSONValue.object(chosen.map { ($0, table.value(perturbation, $0).map(JSONValue.number) ?? .null) }))
                })
            }
            if json {
                print((ceilingTable.map { JSONValue.object([("results", object(table)), ("ceiling", object($0))]) } ?? object(table)).serialized)
            } else {
                print(table.resultsCSV(), terminator: "")
                if let ceilingTable { print("\nceiling:\n" + ceilingTable.resultsCSV(), terminator: "") }
            }
        }
    }

    private func chosenMetrics() throws -> [String] {
        guard let metrics else { return GeneSpaceScore.metrics }
        let names = metrics.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for name in names where !GeneSpaceScore.metrics.contains(name) {
            throw CommandError("--metrics: unknown metric '\(name)' (expected some of \(GeneSpaceScore.metrics.joined(separator: ", ")))")
        }
        return names
    }
}
