import Foundation
import Yams

/// One unit of work of an experiment, as the runner, the cache and the executors see it.
public struct ExperimentTask: Sendable, Equatable {
    /// Unique within the plan, e.g. `solve/cisplatin/d16/seed0/progot`.
    public let id: String
    /// The stage's name; the tasks of one stage are independent of each other.
    public let stage: String
    /// The cache key.
    public let key: String
    /// Ids of the tasks whose outputs this one reads.
    public let inputs: [String]

    public init(id: String, stage: String, key: String, inputs: [String]) {
        self.id = id
        self.stage = stage
        self.key = key
        self.inputs = inputs
    }
}

/// What a pipeline file declares: a spec read from the file, planned into tasks whose outputs
/// land in a cache, computed by stages, and gathered into a report. The perturbation pipeline
/// and the inverse-OT grid are experiments; every command (`run`, `run-task`, `report`,
/// `cache`, `export`, `validate`) and the one `Runner` work on this protocol alone.
public protocol Experiment: Sendable {
    /// The pipeline file.
    var file: String { get }
    var cache: TaskCache { get }
    /// Every task, each after its inputs.
    var tasks: [ExperimentTask] { get }
    /// The tasks whose results the report shows; those missing from the cache are listed as
    /// missing in a report rebuilt from the cache.
    var resultTaskIDs: [String] { get }
    /// The file a workflow engine's last rule targets (the report's table).
    var reportTarget: URL { get }
    /// One line for `perturbot validate`: what the file declares.
    var summary: String { get }

    /// Computes one task from its inputs in the cache: the files of its cache entry.
    func compute(_ task: ExperimentTask) throws -> EntryFiles

    /// Writes the report from what the cache holds.
    @discardableResult
    func writeReport(failures: [(task: String, message: String)], wallSeconds: Double?) throws -> URL
}

/// The checks of `perturbot validate`: problems (one line each) and notes.
public struct ExperimentCheck: Sendable {
    public let summary: String
    public let notes: [String]
    /// Where the report would be written (checked by `Experiments.check`).
    public let reportFolder: URL

    public init(summary: String, notes: [String], reportFolder: URL) {
        self.summary = summary
        self.notes = notes
        self.reportFolder = reportFolder
    }
}

/// A kind of experiment: how its files are read, checked and planned.
public protocol ExperimentKind {
    /// Reads, checks (against the data too) and plans the file.
    static func load(file: String, cacheDirectory: String?) throws -> any Experiment
    /// Checks the file (and, with `checkData`, the data it names) without planning a cache;
    /// throws `PipelineSpecError` with every problem.
    static func check(file: String, checkData: Bool) throws -> ExperimentCheck
}

/// The experiment kinds, by the top-level `experiment:` value of a pipeline file; a file
/// without that key is a perturbation pipeline.
public enum Experiments {
    static var kinds: [String: any ExperimentKind.Type] { ["inverse_ot": InverseOTGrid.self] }

    /// The kind `file` declares.
    public static func kind(of file: String) throws -> any ExperimentKind.Type {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8),
              let root = try? Yams.compose(yaml: text), case .mapping(let entries) = root,
              let node = entries.first(where: { $0.key.string == "experiment" })?.value else {
            return PerturbationExperiment.self
        }
        guard let name = node.string, let kind = kinds[name] else {
            throw PipelineSpecError(file: file, issues: [SpecIssue(
                "experiment must be one of \(kinds.keys.sorted().joined(separator: ", ")) (or absent, for a perturbation pipeline), got '\(node.string ?? "a collection")'",
                at: NodeReader.location(node))])
        }
        return kind
    }

    /// Reads, checks and plans `file`, whatever it declares.
    public static func load(file: String, cacheDirectory: String?) throws -> any Experiment {
        try kind(of: file).load(file: file, cacheDirectory: cacheDirectory)
    }

    /// `perturbot validate`'s checks of `file`, the report folder's path included.
    public static func check(file: String, checkData: Bool) throws -> ExperimentCheck {
        let check = try kind(of: file).check(file: file, checkData: checkData)
        if let problem = OutputPaths.reportProblem(check.reportFolder) {
            throw PipelineSpecError(file: file, issues: [SpecIssue(problem, at: nil)])
        }
        return check
    }

    /// The cache of a pipeline file: `directory`, or `.perturbot-cache` next to the file.
    static func cache(file: String, directory: String?) -> TaskCache {
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
        return TaskCache(root: directory.map { URL(fileURLWithPath: $0) } ?? folder.appendingPathComponent(".perturbot-cache"))
    }
}
