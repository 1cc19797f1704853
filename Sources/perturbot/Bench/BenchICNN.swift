import AnnData
import ArgumentParser
import Foundation
import LinearAlgebra
import Methods
import NeuralTransport
import Transport

/// `perturbot bench icnn`: time CellOT's ICNN-OT training (outer steps of `inner` g-steps and
/// one f-step) for bench/neural, which runs the same step in JAX on the same clouds.
struct ICNNBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "icnn",
        abstract: "Time ICNN-OT training steps from --source to --target (CellOT's network and losses).")

    @Option(parsing: .unconditional, help: "Source point cloud (.npy, .csv or .h5ad).")
    var source: String

    @Option(parsing: .unconditional, help: "Target point cloud (.npy, .csv or .h5ad).")
    var target: String

    @Option(parsing: .unconditional, help: "Outer steps per timed run.")
    var steps = 200

    @Option(parsing: .unconditional, help: "g-steps per outer step (CellOT: 10).")
    var innerIterations = 10

    @Option(parsing: .unconditional, help: "Minibatch size (CellOT: 256).")
    var batchSize = 256

    @Option(parsing: .unconditional, help: "Units of each of the 4 hidden layers (CellOT: 64).")
    var width = 64

    @Option(parsing: .unconditional, help: "float or double.")
    var precision: Precision = .float

    @Option(parsing: .unconditional, help: "Number of timed runs; the best is reported.")
    var `repeat` = 3

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard steps >= 1, innerIterations >= 1, batchSize >= 1, width >= 1, `repeat` >= 1 else {
            throw ValidationError("--steps, --inner-iterations, --batch-size, --width and --repeat must be at least 1")
        }
    }

    func run() throws {
        try reportingErrors {
            let (x, y) = try readCloudPair(source: source, target: target)
            var method = ICNNMethod()
            method.iterations = steps
            method.training.innerIterations = innerIterations
            method.training.batchSize = batchSize
            method.training.width = width
            var warmUp = method
            warmUp.iterations = 1
            let estimator = method.estimator()
            let seconds: [Double]
            switch precision {
            case .float: seconds = try timedTrainingRuns(estimator, warmUp: warmUp.estimator(), x.converted(to: Float.self), y.converted(to: Float.self), repeats: `repeat`)
            case .double: seconds = try timedTrainingRuns(estimator, warmUp: warmUp.estimator(), x, y, repeats: `repeat`)
            }
            let best = seconds.min() ?? 0
            let fields: [(String, JSONValue)] = [
                ("d", .integer(x.cols)), ("batch_size", .integer(batchSize)),
                ("hidden", .array(Array(repeating: JSONValue.integer(width), count: 4))),
                ("inner_iterations", .integer(innerIterations)), ("steps", .integer(steps)),
                ("precision", .string(precision.rawValue)),
                ("seconds", .number(best)), ("seconds_all", .array(seconds.map { .number($0) })),
                ("steps_per_second", .number(Double(steps) / best)),
                ("g_steps_per_second", .number(Double(steps * innerIterations) / best)),
                ("peak_rss_bytes", .integer(peakResidentBytes())),
                ("threads", .integer(BatchChunks.threads(forBatch: batchSize))),
            ]
            printFields(fields, json: json)
        }
    }
}

/// Seconds of each of `repeats` timed fits of `estimator` (generator seeded with the run's
/// index), after one untimed fit of `warmUp` (one step): page faults and BLAS buffers are not
/// training.
func timedTrainingRuns<Scalar: CommandScalar>(
    _ estimator: any MapEstimator, warmUp: any MapEstimator, _ x: Matrix<Scalar>, _ y: Matrix<Scalar>, repeats: Int
) throws -> [Double] {
    var rng = SeededRNG(seed: 0)
    _ = try Scalar.fit(warmUp, x, y, &rng)
    return try (0..<repeats).map { run in
        var rng = SeededRNG(seed: UInt64(run))
        return try timed { try Scalar.fit(estimator, x, y, &rng) }.1
    }
}
