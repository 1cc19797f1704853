import AnnData
import ArgumentParser
import Foundation
import LinearAlgebra
import Methods
import NeuralTransport
import Transport

/// `perturbot bench egnot`: time energy-guided EOT training steps (K Langevin steps on the
/// batch's chains, then one Adam step on the potential) for bench/egnot, which runs the same
/// step in PyTorch on the same clouds.
struct EgnotBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "egnot",
        abstract: "Time energy-guided EOT training steps from --source to --target (Langevin sampling + one Adam step each).")

    @Option(parsing: .unconditional, help: "Source point cloud (.npy, .csv or .h5ad).")
    var source: String

    @Option(parsing: .unconditional, help: "Target point cloud (.npy, .csv or .h5ad).")
    var target: String

    @Option(parsing: .unconditional, help: "Training steps per timed run.")
    var steps = 20

    @Option(parsing: .unconditional, help: "Langevin steps per training step (the authors: 100).")
    var langevinSteps = 100

    @Option(parsing: .unconditional, help: "Minibatch size (the authors: 1024).")
    var batchSize = 1024

    @Option(parsing: .unconditional, help: "Units of each hidden layer.")
    var hidden = 256

    @Option(parsing: .unconditional, help: "Hidden layers.")
    var layers = 3

    @Option(parsing: .unconditional, help: "ε for the cost ½‖x − y‖².")
    var epsilon = 0.1

    @Option(parsing: .unconditional, help: "Langevin step η in data units (noise √η).")
    var stepSize = 0.01

    @Option(parsing: .unconditional, help: "float or double.")
    var precision: Precision = .float

    @Option(parsing: .unconditional, help: "Number of timed runs; the best is reported.")
    var `repeat` = 3

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard steps >= 1, langevinSteps >= 1, batchSize >= 1, hidden >= 1, layers >= 1, `repeat` >= 1 else {
            throw ValidationError("--steps, --langevin-steps, --batch-size, --hidden, --layers and --repeat must be at least 1")
        }
        guard epsilon > 0, stepSize > 0, stepSize < 2 * epsilon else {
            throw ValidationError("--epsilon and --step-size must be positive, with --step-size below 2·epsilon")
        }
    }

    func run() throws {
        try reportingErrors {
            let (x, y) = try readCloudPair(source: source, target: target)
            var method = EGNOTMethod()
            method.iterations = steps
            method.langevinSteps = langevinSteps
            method.batchSize = batchSize
            method.hidden = hidden
            method.layers = layers
            method.epsilon = .value(epsilon)
            method.stepSize = stepSize
            // Sampling the fitted map is not training: one test step keeps it out of the time.
            method.testLangevinSteps = 1
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
                ("hidden", .array(Array(repeating: JSONValue.integer(hidden), count: layers))),
                ("langevin_steps", .integer(langevinSteps)), ("steps", .integer(steps)),
                ("precision", .string(precision.rawValue)),
                ("seconds", .number(best)), ("seconds_all", .array(seconds.map { .number($0) })),
                ("steps_per_second", .number(Double(steps) / best)),
                ("langevin_steps_per_second", .number(Double(steps * langevinSteps) / best)),
                ("peak_rss_bytes", .integer(peakResidentBytes())),
                ("threads", .integer(BatchChunks.threads(forBatch: batchSize))),
            ]
            printFields(fields, json: json)
        }
    }
}
