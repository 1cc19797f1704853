import AnnData
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
            let spec: PipelineSpec
            do {
                spec = try SpecParser.parse(file: file)
            } catch let error as PipelineSpecError {
                throw MultiLineError(lines: error.lines)
            }
            if !skipData {
                let dataPath = DataCheck.resolvedDataPath(spec, pipelineFile: file)
                let summary: AnnDataSummary
                do {
                    summary = try AnnDataSummary.read(dataPath)
                } catch {
                    let location = spec.data.path.location
                    throw CommandError("\(file):\(location.line):\(location.column): data.path: \(error)")
                }
                let issues = DataCheck.issues(spec, against: summary)
                if !issues.isEmpty { throw MultiLineError(lines: PipelineSpecError(file: file, issues: issues).lines) }
            }
            let drugs: String
            switch spec.drugs {
            case .all: drugs = "all drugs"
            case .list(let list): drugs = "\(list.count) drug\(list.count == 1 ? "" : "s")"
            }
            print("\(file): ok — \(drugs) × \(spec.pcaComponents.count) PCA size(s) × \(spec.split.seeds.count) seed(s) × \(spec.methods.count) method(s)")
        }
    }
}

/// Several problems, printed one `perturbot: error:` line each by `reportingErrors`.
struct MultiLineError: Error, CustomStringConvertible {
    let lines: [String]
    var description: String { lines.joined(separator: "\n") }
}
