import Crypto
import Foundation
import InverseTransport
import LinearAlgebra
import Stages
import Transport
import Yams

/// A pipeline file of the inverse-OT graph experiment (seed 004; REFERENCES Part A §3.3),
/// marked by `experiment: inverse_ot`: pairs drawn from the entropic coupling of a graph's
/// shifted Laplacian A*, over a grid of pair counts n × ε × seeds, each fitted by ℓ1 (or
/// nuclear) inverse OT with λ = λ₀·√(log n / n) and scored by the wrongly estimated positions of
/// the support.
public struct InverseOTExperimentSpec: Sendable, Equatable {
    public let name: String
    public let graph: IOTGraphDataset.Graph
    public let nodes: Int
    public let delta: Double
    public let pairs: [Int]
    public let epsilons: [Double]
    public let seeds: [UInt64]
    public let penalty: InverseOTPenalty
    /// The λ₀ values of λ = λ₀·√(log n / n) (seed 004: support recovery for
    /// 1 ≳ λ ≳ √((t + log n)/n)), one grid dimension.
    public let lambdaScales: [Double]
    /// Grid cells (n, ε) the file leaves out, with its reason in a comment (e.g. too slow).
    public let skipped: [Cell]
    public let options: InverseOTOptions
    public let report: PipelineSpec.ReportSpec

    public struct Cell: Sendable, Equatable {
        public let pairs: Int
        public let epsilon: Double
    }

    public static func lambda(scale: Double, pairs n: Int) -> Double {
        scale * (Foundation.log(Double(n)) / Double(n)).squareRoot()
    }

    public func isSkipped(pairs: Int, epsilon: Double) -> Bool {
        skipped.contains(Cell(pairs: pairs, epsilon: epsilon))
    }
}

/// One grid point's outcome, the cache entry of an `inverse_ot` task.
public struct InverseOTRecord: Sendable, Codable, Equatable {
    public let pairs: Int
    public let epsilon: Double
    public let seed: UInt64
    public let lambdaScale: Double
    public let lambda: Double
    /// |supp Â Δ supp A*| over all dx·dy entries, and its two parts.
    public let wrongPositions: Int
    public let falsePositives: Int
    public let falseNegatives: Int
    public let supportSize: Int
    public let trueSupportSize: Int
    public let rank: Int
    /// max_ij |Â_ij − A*_ij| and ‖Â − A*‖_F / ‖A*‖_F.
    public let maxAbsoluteError: Double
    public let relativeError: Double
    public let loss: Double
    public let objective: Double
    public let outerIterations: Int
    public let sinkhornIterations: Int
    public let unconvergedSinkhornRuns: Int
    public let converged: Bool
    public let relativeGradientMapping: Double
    public let seconds: Double
}

public enum InverseOTExperiment {
    public static let stage = "inverse_ot"
    /// Bump when the task's code changes what it computes.
    static let version = 2  // 2: λ₀ a grid dimension, in the record

    /// Whether the YAML file declares `experiment: inverse_ot` at its top level.
    public static func declares(file path: String) -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let root = try? Yams.compose(yaml: text), case .mapping(let entries) = root else { return false }
        return entries.contains { $0.key.string == "experiment" }
    }

    public struct Task: Sendable, Equatable {
        public let id: String
        public let key: String
        public let pairs: Int
        public let epsilon: Double
        public let lambdaScale: Double
        public let seed: UInt64
    }

    /// The spec, its tasks and its cache (default `.perturbot-cache` next to the file).
    public static func prepare(file: String, cacheDirectory: String?) throws -> (InverseOTExperimentSpec, [Task], TaskCache) {
        let spec = try InverseOTExperimentParser.parse(file: file)
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
        let cache = TaskCache(root: cacheDirectory.map { URL(fileURLWithPath: $0) } ?? folder.appendingPathComponent(".perturbot-cache"))
        return (spec, try plan(spec), cache)
    }

    /// The record of a task in the cache, if there is one.
    public static func cachedRecord(_ task: Task, in cache: TaskCache) -> InverseOTRecord? {
        (try? cache.read(task.key, file: "result.json")).flatMap { try? JSONDecoder().decode(InverseOTRecord.self, from: $0) }
    }

    /// The grid in order n, then ε, then λ₀, then seed, without the skipped cells.
    public static func plan(_ spec: InverseOTExperimentSpec) throws -> [Task] {
        var tasks: [Task] = []
        for n in spec.pairs {
            for epsilon in spec.epsilons where !spec.isSkipped(pairs: n, epsilon: epsilon) {
                for lambdaScale in spec.lambdaScales {
                for seed in spec.seeds {
                    let parameters: [String: any Encodable] = [
                        "graph": spec.graph.rawValue, "nodes": spec.nodes, "delta": spec.delta, "pairs": n,
                        "epsilon": epsilon, "seed": seed, "penalty": spec.penalty.rawValue, "lambda": InverseOTExperimentSpec.lambda(scale: lambdaScale, pairs: n),
                        "tolerance": spec.options.tolerance, "max_iterations": spec.options.maxIterations,
                        "support_tolerance": spec.options.supportTolerance, "sinkhorn_threshold": spec.options.sinkhorn.threshold,
                        "sinkhorn_max_iterations": spec.options.sinkhorn.maxIterations,
                    ]
                    let canonical = try canonicalJSON(parameters)
                    var hasher = SHA256()
                    hasher.update(data: Data("\(stage)\n\(version)\n\(canonical)\n".utf8))
                    let id = "iot/\(spec.graph.rawValue)\(spec.nodes)/n\(n)/eps\(format(epsilon))/lambda0_\(format(lambdaScale))/seed\(seed)"
                    tasks.append(Task(id: id, key: hexDigest(hasher.finalize()), pairs: n, epsilon: epsilon,
                                      lambdaScale: lambdaScale, seed: seed))
                }
                }
            }
        }
        return tasks
    }

    /// Generates the pairs of one grid point, fits, and scores against A*.
    public static func run(_ task: Task, spec: InverseOTExperimentSpec) throws -> InverseOTRecord {
        let start = DispatchTime.now().uptimeNanoseconds
        let data = IOTGraphDataset.Options(nodes: spec.nodes, graph: spec.graph, delta: spec.delta, epsilon: task.epsilon,
                                           pairs: task.pairs, seed: task.seed)
        let (truth, x, y) = try IOTGraphDataset.make(data)
        let problem = try InverseOTProblem(x: x, y: y, epsilon: task.epsilon)
        var options = spec.options
        options.penalty = spec.penalty
        options.lambda = InverseOTExperimentSpec.lambda(scale: task.lambdaScale, pairs: task.pairs)
        let result = try InverseOTEstimator.fit(problem, options: options)
        let trueSupport = truth.storage.map { $0 != 0 }
        let falsePositives = zip(result.support, trueSupport).filter { $0 && !$1 }.count
        let falseNegatives = zip(result.support, trueSupport).filter { !$0 && $1 }.count
        var squaredError = 0.0, squaredTruth = 0.0, maxError = 0.0
        for (estimate, exact) in zip(result.interaction.storage, truth.storage) {
            squaredError += (estimate - exact) * (estimate - exact)
            squaredTruth += exact * exact
            maxError = Swift.max(maxError, Swift.abs(estimate - exact))
        }
        return InverseOTRecord(
            pairs: task.pairs, epsilon: task.epsilon, seed: task.seed, lambdaScale: task.lambdaScale, lambda: options.lambda,
            wrongPositions: falsePositives + falseNegatives, falsePositives: falsePositives, falseNegatives: falseNegatives,
            supportSize: result.supportSize, trueSupportSize: trueSupport.filter { $0 }.count, rank: result.rank,
            maxAbsoluteError: maxError, relativeError: (squaredError / squaredTruth).squareRoot(),
            loss: result.loss, objective: result.objective, outerIterations: result.outerIterations,
            sinkhornIterations: result.sinkhornIterations, unconvergedSinkhornRuns: result.unconvergedSinkhornRuns,
            converged: result.converged, relativeGradientMapping: result.relativeGradientMapping,
            seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// Runs every task not in the cache (`jobs` at a time) and returns, per task in plan order,
    /// its record or the error that stopped it.
    public static func execute(_ spec: InverseOTExperimentSpec, tasks: [Task], cache: TaskCache, jobs: Int,
                               progress: ProgressLine?) -> [(task: Task, record: InverseOTRecord?, error: String?, ran: Bool)] {
        let outcomes = OutcomeStore(count: tasks.count)
        let queue = TaskQueue(count: tasks.count)
        let done = OutcomeStore(count: 1)
        DispatchQueue.concurrentPerform(iterations: Swift.min(Swift.max(1, jobs), Swift.max(1, tasks.count))) { _ in
            while let index = queue.next() {
                let task = tasks[index]
                if let record = cachedRecord(task, in: cache) {
                    outcomes.set(index, (record, nil, false))
                } else {
                    do {
                        var computed: InverseOTRecord?
                        let computation = try cache.computeOnce(task.key, task: task.id, stage: stage, wait: true) {
                            let record = try TrainingProgress.reporting(to: { progress?.training($0, task: task.id) }) {
                                try run(task, spec: spec)
                            }
                            computed = record
                            let encoder = JSONEncoder()
                            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                            return ["result.json": try encoder.encode(record)]
                        }
                        // Another process sharing the cache may have computed it meanwhile.
                        guard let record = computed ?? cachedRecord(task, in: cache) else {
                            throw PipelineError.cache("the cache entry of \(task.id) is missing after it was stored")
                        }
                        if case .computed = computation {
                            outcomes.set(index, (record, nil, true))
                        } else {
                            outcomes.set(index, (record, nil, false))
                        }
                    } catch {
                        outcomes.set(index, (nil, "\(error)", true))
                    }
                }
                progress?.update(done: done.increment(), total: tasks.count, current: task.id)
            }
        }
        progress?.finish()
        return tasks.indices.map { index in
            let outcome = outcomes.get(index)
            return (tasks[index], outcome?.0, outcome?.1, outcome?.2 ?? false)
        }
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && Swift.abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

/// Per-index results filled by concurrent workers.
private final class OutcomeStore: @unchecked Sendable {
    private var values: [(InverseOTRecord?, String?, Bool)?]
    private var counter = 0
    private let lock = NSLock()

    init(count: Int) { values = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: (InverseOTRecord?, String?, Bool)) {
        lock.lock(); values[index] = value; lock.unlock()
    }

    func get(_ index: Int) -> (InverseOTRecord?, String?, Bool)? {
        lock.lock(); defer { lock.unlock() }
        return values[index]
    }

    func increment() -> Int {
        lock.lock(); defer { lock.unlock() }
        counter += 1
        return counter
    }
}
