import AnnData
import ArgumentParser
import Foundation
import LinearAlgebra
import Transport

/// `perturbot bench …`: timings that `bench/` scripts compare against peer tools.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (run by the scripts under bench/).",
        subcommands: [H5adLoad.self, SinkhornBench.self, KernelLimitsBench.self, ICNNBench.self, EgnotBench.self])
}

/// `perturbot bench h5ad-load FILE`: time reading an .h5ad with X made dense Float32.
struct H5adLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "h5ad-load",
        abstract: "Time loading FILE with X densified to Float32 (the whole file: X, obs, var, obsm, layers, uns).")

    @Argument(help: "The .h5ad file.")
    var file: String

    @Option(parsing: .unconditional, help: "Number of timed loads; the best is reported.")
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
                let (data, elapsed) = try timed { try AnnDataReader.read(file, as: Float.self, sparse: .densify) }
                seconds.append(elapsed)
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

/// `perturbot bench sinkhorn`: time one Sinkhorn solve (cost matrix included, file reading
/// excluded) for bench/sinkhorn, which runs POT and OTT-JAX on the same clouds and ε.
struct SinkhornBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sinkhorn",
        abstract: "Time Sinkhorn from --source to --target at a fixed ε; reports time, iterations and peak RSS.")

    @Option(parsing: .unconditional, help: "Source point cloud (.npy, .csv or .h5ad).")
    var source: String

    @Option(parsing: .unconditional, help: "Target point cloud (.npy, .csv or .h5ad).")
    var target: String

    @OptionGroup var sinkhorn: SinkhornArguments

    @OptionGroup var costArguments: CostArguments

    @Option(parsing: .unconditional, help: "elastic_l1 / elastic_stvs: λ (1).")
    var lambda = 1.0

    @Option(parsing: .unconditional, help: "float or double.")
    var precision: Precision = .float

    @Option(parsing: .unconditional, help: "Number of timed solves; the best is reported.")
    var `repeat` = 3

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        try reportingErrors {
            guard `repeat` >= 1 else { throw ValidationError("--repeat must be at least 1") }
            let (x, y) = try readCloudPair(source: source, target: target)
            let options = try sinkhorn.options()
            let cost = try costArguments.groundCost(lambda: lambda)
            switch precision {
            case .float: try measure(x.converted(to: Float.self), y.converted(to: Float.self), options, cost)
            case .double: try measure(x, y, options, cost)
            }
        }
    }

    private func measure<Scalar: CommandScalar>(
        _ x: Matrix<Scalar>, _ y: Matrix<Scalar>, _ options: SinkhornOptions, _ cost: GroundCost
    ) throws {
        var seconds: [Double] = []
        var last: SinkhornResult<Scalar>?
        for _ in 0..<`repeat` {
            let (result, elapsed) = try timed { try Scalar.sinkhorn(x, y, options, cost) }
            last = result
            seconds.append(elapsed)
        }
        guard let result = last else { return }
        let resolvedMode: String
        switch options.mode {
        case .dense: resolvedMode = "dense"
        case .online: resolvedMode = "online"
        case .automatic: resolvedMode = x.rows * y.rows <= options.denseEntryLimit ? "dense" : "online"
        }
        let fields: [(String, JSONValue)] = [
            ("n", .integer(x.rows)), ("m", .integer(y.rows)), ("d", .integer(x.cols)),
            ("precision", .string(precision.rawValue)), ("cost", .string(cost.description)), ("mode", .string(resolvedMode)),
            ("epsilon", .number(result.epsilon)), ("threshold", .number(options.threshold)),
            ("seconds", .number(seconds.min() ?? 0)), ("seconds_all", .array(seconds.map { .number($0) })),
            ("iterations", .integer(result.iterations)), ("converged", .bool(result.converged)),
            ("reg_ot_cost", .number(result.regOTCost)), ("marginal_error", .number(result.marginalError)),
            ("peak_rss_bytes", .integer(peakResidentBytes())),
            ("threads", .integer(ProcessInfo.processInfo.activeProcessorCount)),
            ("row_kernel", .string(rowKernelInstructionSet)),
        ]
        printFields(fields, json: json)
    }
}

/// `body`'s result and its wall-clock seconds.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let result = try body()
    return (result, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}

/// Peak resident set size of this process (getrusage; Linux reports kilobytes).
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_maxrss * 1024
}
