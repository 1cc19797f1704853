import ArgumentParser
import Foundation

/// The `perturbot` command line.
@main
struct Perturbot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perturbot",
        abstract: "Single-cell perturbation analysis with optimal transport.",
        version: "0.1.0",
        subcommands: [Inspect.self, Validate.self, Run.self, Report.self, Cache.self, OT.self, Coupling.self, Generate.self, Bench.self]
    )
}

/// Runs a command body, turning any error into one `perturbot: error: …` line on stderr and
/// exit status 1, so bad input never ends in a stack trace.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch let error as MultiLineError {
        for line in error.lines { FileHandle.standardError.write(Data("perturbot: error: \(line)\n".utf8)) }
        throw ExitCode.failure
    } catch {
        FileHandle.standardError.write(Data("perturbot: error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
