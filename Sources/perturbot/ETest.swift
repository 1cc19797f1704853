import AnnData
import ArgumentParser
import Foundation
import Scoring
import Stages

/// `perturbot etest`: pertpy's E-test — is each condition's energy distance from the control
/// beyond what shuffling the labels gives?
struct ETest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "etest",
        abstract: "Energy distance of each condition from the control, with permutation p-values (Holm–Šidák adjusted), as pertpy's DistanceTest(\"edistance\").")

    @Argument(help: "The .h5ad file.")
    var data: String

    @Option(parsing: .unconditional, help: "The obs column of the conditions.")
    var conditionKey = "drug"

    @Option(parsing: .unconditional, help: "The control label.")
    var control = "control"

    @Option(parsing: .unconditional, help: "X, or an obsm entry (pertpy's default: X_pca).")
    var features = "X_pca"

    @Option(parsing: .unconditional, help: "Label shufflings per condition.")
    var permutations = 1000

    @Option(parsing: .unconditional, help: "Seed of the shufflings.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Significance level of the significant columns.")
    var alpha = 0.05

    @Flag(help: "Print one JSON object: condition → {cells, distance, pvalue, pvalue_adj, significant_adj}.")
    var json = false

    func run() throws {
        try reportingErrors {
            guard permutations >= 1 else { throw CommandError("--permutations must be at least 1, got \(permutations)") }
            guard alpha > 0, alpha < 1 else { throw CommandError("--alpha must be strictly between 0 and 1, got \(alpha)") }
            let loaded = try Load.run(path: data, conditionKey: conditionKey, features: features, transform: .none)
            guard loaded.conditions.contains(control) else {
                throw CommandError("\(data): no cell has \(conditionKey) = '\(control)' (the control)")
            }
            let kept = loaded.conditions.indices.filter { loaded.conditions[$0] != nil }
            let labels = kept.compactMap { loaded.conditions[$0] }
            guard Set(labels).count >= 2 else { throw CommandError("\(data): no condition besides the control '\(control)'") }
            let rows = EnergyTest.run(points: loaded.features.rows(at: kept), labels: labels, control: control,
                                      permutations: permutations, seed: seed)
            if json {
                print(JSONValue.object(rows.map { row in
                    (row.condition, .object([
                        ("cells", .integer(row.cells)), ("distance", .number(row.distance)), ("pvalue", .number(row.pValue)),
                        ("pvalue_adj", .number(row.adjustedPValue)), ("significant_adj", .bool(row.adjustedPValue < alpha)),
                    ]))
                }).serialized)
            } else {
                print("condition,cells,distance,pvalue,pvalue_adj,significant_adj")
                for row in rows {
                    print("\(row.condition),\(row.cells),\(row.distance),\(row.pValue),\(row.adjustedPValue),\(row.adjustedPValue < alpha)")
                }
            }
        }
    }
}
