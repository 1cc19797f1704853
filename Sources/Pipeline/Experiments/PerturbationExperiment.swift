import AnnData
import Foundation
import LinearAlgebra
import Stages

/// The perturbation pipeline (shared/DESIGN.md): per drug × PCA size (or feature set) × seed ×
/// method, a map fitted on control → treated training cells and scored on the test cells.
public struct PerturbationExperiment: Experiment {
    public let file: String
    public let spec: PipelineSpec
    public let plan: Plan
    public let cache: TaskCache
    /// The data file, resolved against the pipeline file's folder.
    public let dataPath: String
    /// The shared inputs its tasks decoded, kept for the process's other tasks.
    let memo = EntryMemo()

    public init(file: String, spec: PipelineSpec, plan: Plan, cache: TaskCache, dataPath: String) {
        self.file = file
        self.spec = spec
        self.plan = plan
        self.cache = cache
        self.dataPath = dataPath
    }

    public var tasks: [ExperimentTask] {
        plan.tasks.map { ExperimentTask(id: $0.id, stage: $0.stage.rawValue, key: $0.key, inputs: $0.inputs) }
    }

    public var resultTaskIDs: [String] { plan.tasks.filter { $0.stage == .evaluate || $0.stage == .geneScore }.map(\.id) }

    public var reportTarget: URL {
        ReportWriter.folder(spec, pipelineFile: file).appendingPathComponent(spec.report.formats.contains(.csv) ? "table.csv" : "report.md")
    }

    public var summary: String { Self.summary(spec) }

    public func compute(_ task: ExperimentTask) throws -> EntryFiles {
        guard let planned = plan.task(task.id) else { throw PipelineError.plan("no task \(task.id) in this pipeline's plan") }
        return try StageExecutor(dataPath: dataPath, cache: cache, memo: memo).run(planned, plan: plan)
    }

    @discardableResult
    public func writeReport(failures: [(task: String, message: String)], wallSeconds: Double?) throws -> URL {
        try ReportWriter.write(spec: spec, pipelineFile: file, plan: plan, cache: cache, evaluations: evaluations(),
                               references: references(), geneScores: geneScores(), failures: failures, wallSeconds: wallSeconds)
    }

    /// The evaluation of every evaluate task that has one in the cache.
    public func evaluations() -> [EvaluationRecord] { decoded(.evaluate, file: "evaluation.json", as: EvaluationRecord.self) }

    /// The noise ceiling and unmoved references of every ceiling task in the cache.
    public func references() -> [Ceiling.Record] { decoded(.ceiling, file: "ceiling.json", as: Ceiling.Record.self) }

    /// The gene-space scores of every gene_score task in the cache.
    public func geneScores() -> [GeneScore.Record] { decoded(.geneScore, file: "gene_score.json", as: GeneScore.Record.self) }

    /// The cached output of every task of `stage`, in plan order (those not cached left out),
    /// read and decoded on every core: a screen's report reads 9,000 evaluations.
    private func decoded<Record: Decodable & Sendable>(_ stage: PlannedTask.Stage, file: String, as _: Record.Type) -> [Record] {
        let tasks = plan.tasks.filter { $0.stage == stage }
        let results = DecodedRecords<Record>(count: tasks.count)
        let cache = self.cache
        parallelForRanges(count: tasks.count, minimumBlock: 64, maxBlocks: ProcessInfo.processInfo.activeProcessorCount) { range in
            let decoder = JSONDecoder()
            for index in range {
                results.set(index, (try? cache.read(tasks[index].key, file: file)).flatMap { try? decoder.decode(Record.self, from: $0) })
            }
        }
        return results.values
    }

    private static func summary(_ spec: PipelineSpec) -> String {
        let drugs: String
        switch spec.drugs {
        case .all: drugs = "all drugs"
        case .list(let list): drugs = "\(list.count) drug\(list.count == 1 ? "" : "s")"
        }
        let spaces = spec.pca == .disabled
            ? "\(spec.data.featureSets.count) feature set(s) without PCA" : "\(spec.pcaComponents.count) PCA size(s)"
        return "\(drugs) × \(spaces) × \(spec.split.seeds.count) seed(s) × \(spec.methods.count) method(s)"
    }
}

extension PerturbationExperiment: ExperimentKind {
    /// Loads and plans a pipeline file: the spec, the data checks, and the data file's digest.
    public static func load(file: String, cacheDirectory: String?) throws -> any Experiment {
        try prepare(file: file, cacheDirectory: cacheDirectory)
    }

    /// `load`, typed.
    public static func prepare(file: String, cacheDirectory: String?) throws -> PerturbationExperiment {
        let spec = try SpecParser.parse(file: file)
        let dataPath = DataCheck.resolvedDataPath(spec, pipelineFile: file)
        let summary: AnnDataSummary
        do {
            summary = try AnnDataSummary.read(dataPath)
        } catch {
            throw PipelineSpecError(file: file, issues: [SpecIssue("data.path: \(error)", at: spec.data.path.location)])
        }
        let varNames = try DataCheck.varNames(spec, pipelineFile: file)
        let conditions = spec.data.hasCompositeConditions
            ? try DataCheck.conditionTable(spec, dataPath: dataPath, pipelineFile: file) : nil
        let issues = DataCheck.issues(spec, against: summary, varNameCount: varNames?.count, conditions: conditions)
        guard issues.isEmpty else { throw PipelineSpecError(file: file, issues: issues) }
        let labels: [String]
        if let conditions {
            labels = conditions.problems(control: spec.data.control.value)
        } else {
            let column = summary.obs.first { $0.name == spec.data.conditionKey.value }
            labels = (column?.categoryCounts ?? []).filter { $0.count > 0 }.map { $0.name }
        }
        let cache = Experiments.cache(file: file, directory: cacheDirectory)
        let digest = try DataDigest.of(dataPath, cache: cache)
        var dimensions: [String: Int] = [:]
        for features in spec.data.featureSets.map(\.value) {
            dimensions[features] = DataCheck.featureCount(features, in: summary, varNameCount: varNames?.count)
        }
        let plan = try Plan.make(spec, dataDigest: digest, availableLabels: labels, varNames: varNames, featureDimensions: dimensions)
        return PerturbationExperiment(file: file, spec: spec, plan: plan, cache: cache,
                                      dataPath: dataPath)
    }

    public static func check(file: String, checkData: Bool) throws -> ExperimentCheck {
        guard checkData else {
            let spec = try SpecParser.parse(file: file)
            return ExperimentCheck(summary: summary(spec), notes: [], reportFolder: ReportWriter.folder(spec, pipelineFile: file))
        }
        let spec = try prepare(file: file, cacheDirectory: nil).spec
        let findings = try FeatureValuesCheck.check(spec, dataPath: DataCheck.resolvedDataPath(spec, pipelineFile: file))
        if !findings.issues.isEmpty { throw PipelineSpecError(file: file, issues: findings.issues) }
        return ExperimentCheck(summary: summary(spec), notes: PipelineSpecError(file: file, issues: findings.notes).lines,
                               reportFolder: ReportWriter.folder(spec, pipelineFile: file))
    }
}

/// The records decoded by the workers, each into its own slot.
private final class DecodedRecords<Record: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Record?]

    init(count: Int) { slots = [Record?](repeating: nil, count: count) }

    func set(_ index: Int, _ record: Record?) {
        lock.lock()
        slots[index] = record
        lock.unlock()
    }

    var values: [Record] { slots.compactMap { $0 } }
}
