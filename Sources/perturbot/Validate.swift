import ArgumentParser
import Foundation
import Pipeline

/// `perturbot validate FILE`: check a pipeline file, and its data file, without running anything.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a pipeline file: its shape, its values, and that its data file has the named columns, labels and features.",
        discussion: "Prints every problem as FILE:LINE:COLUMN: message and exits 1; prints a one-line summary and exits 0 when all is well.")

    @Argument(help: "The pipeline YAML file.")
    var file: String

    @Flag(help: "Only check the file itself, not the data it names.")
    var skipData = false

    func run() throws {
        try reportingErrors {
            if InverseOTExperiment.declares(file: file) {
                let spec = try preparing { try InverseOTExperimentParser.parse(file: file) }
                print("\(file): ok — inverse-OT experiment, \(spec.graph.rawValue) graph (\(spec.nodes) nodes) × \(spec.pairs.count) pair count(s) × \(spec.epsilons.count) ε × \(spec.seeds.count) seed(s)")
                return
            }
            let spec = try preparing {
                skipData ? try SpecParser.parse(file: file) : try Runner.prepare(file: file, cacheDirectory: nil).0
            }
            if !skipData {
                let findings = try preparing {
                    try FeatureValuesCheck.check(spec, dataPath: DataCheck.resolvedDataPath(spec, pipelineFile: file))
                }
                if !findings.issues.isEmpty { throw MultiLineError(lines: PipelineSpecError(file: file, issues: findings.issues).lines) }
                for note in PipelineSpecError(file: file, issues: findings.notes).lines {
                    FileHandle.standardError.write(Data("perturbot: \(note)\n".utf8))
                }
            }
            let drugs: String
            switch spec.drugs {
            case .all: drugs = "all drugs"
            case .list(let list): drugs = "\(list.count) drug\(list.count == 1 ? "" : "s")"
            }
            let spaces = spec.pca == .disabled
                ? "\(spec.data.featureSets.count) feature set(s) without PCA" : "\(spec.pcaComponents.count) PCA size(s)"
            print("\(file): ok — \(drugs) × \(spaces) × \(spec.split.seeds.count) seed(s) × \(spec.methods.count) method(s)")
        }
    }
}

/// Several problems, printed one `perturbot: error:` line each by `reportingErrors`.
struct MultiLineError: Error, CustomStringConvertible {
    let lines: [String]
    var description: String { lines.joined(separator: "\n") }
}
