import AnnData
import ArgumentParser
import Foundation
import LinearAlgebra
import NeuralTransport
import Transport

/// `perturbot bench icnn`: time CellOT's ICNN-OT training (outer steps of `inner` g-steps and
/// one f-step) for bench/neural, which runs the same step in JAX on the same clouds.
struct ICNNBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "icnn",
        abstract: "Time ICNN-OT training steps from --source to --target (CellOT's network and losses).")

    @Option(help: "Source point cloud (.npy, .csv or .h5ad).")
    var source: String

    @Option(help: "Target point cloud (.npy, .csv or .h5ad).")
    var target: String

    @Option(help: "Outer steps per timed run.")
    var steps = 200

    @Option(help: "g-steps per outer step (CellOT: 10).")
    var innerIterations = 10

    @Option(help: "Minibatch size (CellOT: 256).")
    var batchSize = 256

    @Option(help: "Units of each of the 4 hidden layers (CellOT: 64).")
    var width = 64

    @Option(help: "float or double.")
    var precision: Precision = .float

    @Option(help: "Number of timed runs; the best is reported.")
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
            let x = try PointCloudFile.read(source), y = try PointCloudFile.read(target)
            guard x.cols == y.cols else {
                throw CommandError("\(source) has \(x.cols) coordinates per point but \(target) has \(y.cols)")
            }
            var estimator = ICNNOTEstimator()
            estimator.iterations = steps
            estimator.innerIterations = innerIterations
            estimator.batchSize = batchSize
            estimator.hiddenUnits = Array(repeating: width, count: 4)
            // One untimed step first: page faults and OpenBLAS's buffers are not training.
            var warmUp = estimator
            warmUp.iterations = 1
            var seconds: [Double] = []
            switch precision {
            case .float:
                let (xs, ys) = (x.converted(to: Float.self), y.converted(to: Float.self))
                var rng = SeededRNG(seed: 0)
                _ = try warmUp.fit(source: xs, target: ys, rng: &rng)
                for run in 0..<`repeat` {
                    var rng = SeededRNG(seed: UInt64(run))
                    seconds.append(try timed { try estimator.fit(source: xs, target: ys, rng: &rng) }.1)
                }
            case .double:
                var rng = SeededRNG(seed: 0)
                _ = try warmUp.fit(source: x, target: y, rng: &rng)
                for run in 0..<`repeat` {
                    var rng = SeededRNG(seed: UInt64(run))
                    seconds.append(try timed { try estimator.fit(source: x, target: y, rng: &rng) }.1)
                }
            }
            let best = seconds.min() ?? 0
            let fields: [(String, JSONValue)] = [
                ("d", .integer(x.cols)), ("batch_size", .integer(batchSize)),
                ("hidden", .array(estimator.hiddenUnits.map { .integer($0) })),
                ("inner_iterations", .integer(innerIterations)), ("steps", .integer(steps)),
                ("precision", .string(precision.rawValue)),
                ("seconds", .number(best)), ("seconds_all", .array(seconds.map { .number($0) })),
                ("steps_per_second", .number(Double(steps) / best)),
                ("g_steps_per_second", .number(Double(steps * innerIterations) / best)),
                ("peak_rss_bytes", .integer(peakResidentBytes())),
                ("threads", .integer(BatchChunks.threads(forBatch: batchSize))),
            ]
            if json {
                print(JSONValue.object(fields).serialized)
            } else {
                for (key, value) in fields { print("\(key): \(value.serialized)") }
            }
        }
    }
}
