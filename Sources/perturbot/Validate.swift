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
            let check = try preparing { try Experiments.check(file: file, checkData: !skipData) }
            for note in check.notes { FileHandle.standardError.write(Data("perturbot: \(note)\n".utf8)) }
            print("\(file): ok — \(check.summary)")
        }
    }
}

/// Several problems, printed one `perturbot: error:` line each by `reportingErrors`.
struct MultiLineError: Error, CustomStringConvertible {
    let lines: [String]
    var description: String { lines.joined(separator: "\n") }
}
