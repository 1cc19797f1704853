import AnnData
import ArgumentParser
import CAllocator
import Foundation
import LinearAlgebra
import Pipeline

/// The `perturbot` command line.
@main
struct Perturbot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perturbot",
        abstract: "Single-cell perturbation analysis with optimal transport.",
        version: "0.1.0",
        subcommands: [Inspect.self, Validate.self, Run.self, RunTask.self, Report.self, Cache.self, Export.self, MethodsCommand.self, Score.self, ETest.self, OT.self, InverseOT.self, Coupling.self, Generate.self, Bench.self]
    )

    static func main() {
        keepMidSizedBuffersOnTheHeap()
        BLASThreads.useOneThread()
        let arguments = Array(CommandLine.arguments.dropFirst())
        func usageError(_ message: String, status: Int32) -> Never {
            FileHandle.standardError.write(Data("perturbot: error: \(message)\n\(ArgumentErrorLine.hint(arguments: arguments, root: Self.self))\n".utf8))
            Foundation.exit(status)
        }
        do {
            var command = try parseAsRoot()
            // A command group named without its subcommand (`perturbot cache`) is a usage error,
            // not a help page with status 0.
            let group = type(of: command).configuration
            if type(of: command) != Self.self, !group.subcommands.isEmpty, group.defaultSubcommand == nil {
                usageError("missing a subcommand: \(group.subcommands.map { $0._commandName }.joined(separator: ", "))",
                           status: ExitCode.validationFailure.rawValue)
            }
            try command.run()
        } catch {
            // --help and --version exit cleanly as ArgumentParser writes them; a bad flag or value
            // is one line and a hint, not a usage dump.
            guard exitCode(for: error) != .success, !(error is ExitCode) else { exit(withError: error) }
            usageError(ArgumentErrorLine.message(Self.message(for: error)), status: exitCode(for: error).rawValue)
        }
    }

    /// glibc maps allocations above a dynamic threshold (from 128 KiB) with their own mmap and
    /// trims freed heap back to the kernel, so the solvers' per-step matrices of 0.1–10 MB kept
    /// growing and shrinking the heap (2,561 brk and 307 madvise calls in 2 training steps of
    /// `perturbot bench egnot` at d = 16), each round a set of page faults: 61 Langevin steps/s
    /// with 2.4 s of 7.3 s in the kernel, against 126/s and 0.01 s with these thresholds (32 MiB,
    /// glibc's largest mmap threshold; 128 MiB kept before trimming). Larger buffers (data
    /// matrices, dense cost matrices) still get their own mapping.
    private static func keepMidSizedBuffersOnTheHeap() {
        _ = perturbot_set_allocator_thresholds(32 << 20, 128 << 20)
    }
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
    } catch let error as PipelineSpecError {
        for line in error.lines { FileHandle.standardError.write(Data("perturbot: error: \(line)\n".utf8)) }
        throw ExitCode.failure
    } catch {
        // A Foundation file error is named by its path and reason, never dumped.
        let message = FileSystemMessage.line(for: error) ?? "\(error)"
        FileHandle.standardError.write(Data("perturbot: error: \(oneLine(message))\n".utf8))
        throw ExitCode.failure
    }
}
