import AnnData
import ArgumentParser
import Foundation

/// `perturbot bench …`: timings that `bench/` scripts compare against peer tools.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (run by the scripts under bench/).",
        subcommands: [H5adLoad.self])
}

/// `perturbot bench h5ad-load FILE`: time reading an .h5ad with X made dense Float32.
struct H5adLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "h5ad-load",
        abstract: "Time loading FILE with X densified to Float32 (the whole file: X, obs, var, obsm, layers, uns).")

    @Argument(help: "The .h5ad file.")
    var file: String

    @Option(help: "Number of timed loads; the best is reported.")
    var `repeat` = 3

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        try reportingErrors {
            guard `repeat` >= 1 else { throw ValidationError("--repeat must be at least 1") }
            var seconds: [Double] = []
            var shape = (0, 0)
            var xSum = 0.0
            for _ in 0..<`repeat` {
                let start = DispatchTime.now().uptimeNanoseconds
                let data = try AnnDataReader.read(file, as: Float.self, sparse: .densify)
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                shape = (data.nObs, data.nVars)
                xSum = data.X?.sum() ?? 0
            }
            let best = seconds.min() ?? 0
            if json {
                print(JSONValue.object([
                    ("seconds_best", .number(best)),
                    ("seconds_all", .array(seconds.map { .number($0) })),
                    ("n_obs", .integer(shape.0)),
                    ("n_vars", .integer(shape.1)),
                    ("x_sum", .number(xSum)),
                ]).serialized)
            } else {
                print("\(file): \(shape.0) × \(shape.1) loaded dense in \(best) s (best of \(`repeat`)), sum \(xSum)")
            }
        }
    }
}
