import Crypto
import Datasets
import Foundation
import Stages

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
    /// The λ₀ values of λ = λ₀·√(log n / n) (seed 004: support recovery for
    /// 1 ≳ λ ≳ √((t + log n)/n)), one grid dimension.
    public let lambdaScales: [Double]
    /// Grid cells (n, ε) the file leaves out, with its reason in a comment (e.g. too slow).
    public let skipped: [Cell]
    /// Penalty, stopping rules and inner Sinkhorn of every fit.
    public let settings: InverseOTGraphFit.Settings
    public let report: PipelineSpec.ReportSpec

    public struct Cell: Sendable, Equatable {
        public let pairs: Int
        public let epsilon: Double
    }

    public func isSkipped(pairs: Int, epsilon: Double) -> Bool {
        skipped.contains(Cell(pairs: pairs, epsilon: epsilon))
    }
}

/// The inverse-OT graph experiment as an `Experiment`: one `inverse_ot` task per grid point
/// n × ε × λ₀ × seed (no inputs; each generates its own pairs), and its report.
public struct InverseOTGrid: Experiment {
    public static let stage = "inverse_ot"
    /// Bump when the task's code changes what it computes.
    // 2: λ₀ a grid dimension, in the record; 3: the joint solver by default, and the solver,
    // its plan passes and the final marginal error in the record.
    static let version = 3

    public let file: String
    public let spec: InverseOTExperimentSpec
    public let cache: TaskCache
    public let tasks: [ExperimentTask]
    /// Per task id: its parameters and λ₀.
    private let points: [String: (parameters: InverseOTGraphFit.Parameters, lambdaScale: Double)]

    init(file: String, spec: InverseOTExperimentSpec, cache: TaskCache) throws {
        self.file = file
        self.spec = spec
        self.cache = cache
        var tasks: [ExperimentTask] = []
        var points: [String: (parameters: InverseOTGraphFit.Parameters, lambdaScale: Double)] = [:]
        // The grid in order n, then ε, then λ₀, then seed, without the skipped cells.
        for n in spec.pairs {
            for epsilon in spec.epsilons where !spec.isSkipped(pairs: n, epsilon: epsilon) {
                for lambdaScale in spec.lambdaScales {
                    for seed in spec.seeds {
                        let parameters = InverseOTGraphFit.Parameters(
                            graph: spec.graph, nodes: spec.nodes, delta: spec.delta, pairs: n, epsilon: epsilon, seed: seed,
                            lambdaScale: lambdaScale, settings: spec.settings)
                        var hasher = SHA256()
                        hasher.update(data: Data("\(Self.stage)\n\(Self.version)\n\(try canonicalJSON(parameters))\n".utf8))
                        let id = "iot/\(spec.graph.rawValue)\(spec.nodes)/n\(n)/eps\(Self.format(epsilon))/lambda0_\(Self.format(lambdaScale))/seed\(seed)"
                        tasks.append(ExperimentTask(id: id, stage: Self.stage, key: hexDigest(hasher.finalize()), inputs: []))
                        points[id] = (parameters, lambdaScale)
                    }
                }
            }
        }
        self.tasks = tasks
        self.points = points
    }

    public var resultTaskIDs: [String] { tasks.map(\.id) }

    public var reportTarget: URL {
        InverseOTReportWriter.folder(spec, pipelineFile: file)
            .appendingPathComponent(spec.report.formats.contains(.csv) ? "table.csv" : "report.md")
    }

    public var summary: String { Self.summary(spec) }

    public func compute(_ task: ExperimentTask) throws -> EntryFiles {
        guard let point = points[task.id] else { throw PipelineError.plan("no task \(task.id) in this experiment") }
        let record = try InverseOTGraphFit.run(point.parameters, lambdaScale: point.lambdaScale)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return EntryFiles(["result.json": try encoder.encode(record)])
    }

    @discardableResult
    public func writeReport(failures: [(task: String, message: String)], wallSeconds: Double?) throws -> URL {
        try InverseOTReportWriter.write(spec: spec, pipelineFile: file, records: tasks.compactMap(cachedRecord),
                                        failures: failures, wallSeconds: wallSeconds)
    }

    /// The record of a task in the cache, if there is one.
    func cachedRecord(_ task: ExperimentTask) -> InverseOTRecord? {
        (try? cache.read(task.key, file: "result.json")).flatMap { try? JSONDecoder().decode(InverseOTRecord.self, from: $0) }
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && Swift.abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    private static func summary(_ spec: InverseOTExperimentSpec) -> String {
        "inverse-OT experiment, \(spec.graph.rawValue) graph (\(spec.nodes) nodes) × \(spec.pairs.count) pair count(s) × \(spec.epsilons.count) ε × \(spec.seeds.count) seed(s)"
    }
}

extension InverseOTGrid: ExperimentKind {
    public static func load(file: String, cacheDirectory: String?) throws -> any Experiment {
        try InverseOTGrid(file: file, spec: InverseOTExperimentParser.parse(file: file),
                          cache: Experiments.cache(file: file, directory: cacheDirectory))
    }

    public static func check(file: String, checkData _: Bool) throws -> ExperimentCheck {
        let spec = try InverseOTExperimentParser.parse(file: file)
        return ExperimentCheck(summary: summary(spec), notes: [], reportFolder: InverseOTReportWriter.folder(spec, pipelineFile: file))
    }
}
