import AnnData
import Foundation
import Stages

/// Runs one planned task: decodes its typed parameters (the value its key hashed) and its named
/// inputs from the cache, calls the stage, encodes its outputs. The file names here are the
/// cache's entry layout; what each stage computes is in Stages.
struct StageExecutor: Sendable {
    let dataPath: String
    let cache: TaskCache
    /// The load and pca entries' decoded files, shared with the process's other tasks.
    var memo = EntryMemo()

    func run(_ task: PlannedTask, plan: Plan) throws -> EntryFiles {
        let encoder = JSONEncoder()
        switch task.stage {
        case .load:
            let parameters = try task.decodedParameters(as: Load.Parameters.self)
            return try StageFiles.files(try Load.read(path: dataPath, parameters), cache: cache)
        case .split:
            let parameters = try task.decodedParameters(as: DrugSplit.Parameters.self)
            // The labels only: a split never reads the matrix.
            let loaded = try labels(try key(task, .data, plan: plan))
            let holdout = try parameters.holdoutValues.map { values -> (groups: [String?], values: Set<String>) in
                guard let groups = loaded.holdoutGroups else {
                    throw PipelineError.plan("split task \(task.id) holds cells out by a column its load task did not read")
                }
                return (groups, Set(values))
            }
            let split = try DrugSplit.make(drug: parameters.drug, control: loaded.cells(labelled: parameters.control, context: parameters.context),
                                           treated: loaded.cells(labelled: parameters.drug, context: parameters.context),
                                           testFraction: parameters.testFraction, seed: parameters.seed, holdout: holdout)
            return EntryFiles(["split.json": try encoder.encode(split)])
        case .pca:
            let parameters = try task.decodedParameters(as: PCAOutput.Parameters.self)
            // The features memory-mapped and read a block of rows at a time: a screen's matrix is
            // never held twice.
            let source = try key(task, .data, plan: plan)
            let labels = try StageFiles.labels(cache, key: source)
            let features = try StageFiles.features(cache, key: source, labels: labels)
            let output = try PCAOutput.fit(features: features, conditions: labels.conditions, contexts: labels.contexts,
                                           featureNames: labels.featureNames, components: parameters.components,
                                           labels: Set([parameters.control] + parameters.drugs),
                                           fittedContexts: parameters.contexts.map(Set.init))
            return EntryFiles(try StageFiles.files(output))
        case .solve:
            let parameters = try task.decodedParameters(as: Solve.Parameters.self)
            let split = try input(task, .split, plan: plan, file: "split.json", as: DrugSplit.self)
            let local = try space(task, plan: plan, rows: split.allRows)
            let output = try Solve.run(parameters, space: local, split: split.restricted(to: split.allRows))
            return EntryFiles(["map.json": try output.encodedMap(), "solve.json": try encoder.encode(output.record)])
        case .evaluate:
            let parameters = try task.decodedParameters(as: Evaluate.Parameters.self)
            let record = try input(task, .solve, plan: plan, file: "solve.json", as: Solve.Record.self)
            let map = try Solve.decodeMap(try read(task, .solve, plan: plan, file: "map.json"), solver: record.solver)
            let split = try input(task, .split, plan: plan, file: "split.json", as: DrugSplit.self)
            let rows = split.allRows
            // The groups of report.mass_by come from the data file, whose content the load task's
            // key (an input of this one's) already hashes.
            let groups = try parameters.massBy.map { key -> [String?] in
                guard let labels = try AnnDataReader.readAnnotations(dataPath).obsLabels(key) else {
                    throw StageError.invalidInput("\(dataPath): obs column '\(key)' (report.mass_by) is not categorical or text")
                }
                return rows.map { labels[$0] }
            }
            let evaluation = try Evaluate.run(parameters, drug: task.coordinates.drug ?? split.drug, solve: record, map: map,
                                              space: try space(task, plan: plan, rows: rows), split: split.restricted(to: rows),
                                              groups: groups)
            return EntryFiles(["evaluation.json": try encoder.encode(evaluation)])
        case .ceiling:
            let parameters = try task.decodedParameters(as: Evaluate.Parameters.self)
            let split = try input(task, .split, plan: plan, file: "split.json", as: DrugSplit.self)
            let record = try Ceiling.run(parameters, drug: task.coordinates.drug ?? split.drug,
                                         space: try space(task, plan: plan, rows: split.allRows), split: split.restricted(to: split.allRows))
            return EntryFiles(["ceiling.json": try encoder.encode(record)])
        case .geneScore:
            let parameters = try task.decodedParameters(as: GeneScore.Parameters.self)
            let loaded = try StageFiles.loaded(cache, key: try key(task, .data, plan: plan))
            let splits = task.inputs(.split), solves = task.inputs(.solve)
            guard splits.count == parameters.drugs.count, solves.count == parameters.drugs.count else {
                throw PipelineError.plan("task \(task.id) reads \(splits.count) splits and \(solves.count) maps for \(parameters.drugs.count) drugs")
            }
            var fits: [GeneScore.Fit] = []
            var method = task.coordinates.method ?? ""
            for (drug, (splitID, solveID)) in zip(parameters.drugs, zip(splits, solves)) {
                let split = try JSONDecoder().decode(DrugSplit.self, from: try read(splitID, of: task, plan: plan, file: "split.json"))
                let record = try JSONDecoder().decode(Solve.Record.self, from: try read(solveID, of: task, plan: plan, file: "solve.json"))
                let map = try Solve.decodeMap(try read(solveID, of: task, plan: plan, file: "map.json"), solver: record.solver)
                method = record.method
                fits.append(GeneScore.Fit(drug: drug, split: split, map: map))
            }
            // The points the maps were fitted in, and the PCA that decodes them (none: the loaded features).
            guard let id = task.input(.points), let source = plan.task(id), source.stage == .pca || source.stage == .load else {
                throw PipelineError.plan("task \(task.id) has no points input from a pca or load task")
            }
            let pca = source.stage == .pca ? try StageFiles.pca(cache, key: source.key) : nil
            let space = pca.map(FeatureSpace.init) ?? FeatureSpace(loaded)
            let model = pca?.model
            // The data file's content is in the load task's key, which this task's key includes.
            let programs = try parameters.truePrograms.map { path in
                try TrueProgram.read(uns: AnnDataReader.readUns(dataPath), path: path, file: dataPath, varNames: loaded.featureNames)
            }
            let record = try GeneScore.run(parameters, method: method, data: loaded, space: space, model: model, fits: fits,
                                           seed: task.coordinates.seed ?? 0, programs: programs)
            return EntryFiles(["gene_score.json": try encoder.encode(record)])
        }
    }

    /// A load entry's labels, decoded once per process.
    private func labels(_ key: String) throws -> StageFiles.Labels {
        try memo.value("labels \(key)") { try StageFiles.labels(cache, key: key) }
    }

    /// A matrix file of a load or pca entry, mapped once per process.
    private func mapped(_ source: PlannedTask, _ file: String) throws -> MappedMatrix {
        try memo.value("\(file) \(source.key)") { try MappedMatrix(cache.mapped(source.key, file: file), name: "\(file) of \(source.id)") }
    }

    private func read(_ id: String, of task: PlannedTask, plan: Plan, file: String) throws -> Data {
        guard let source = plan.task(id) else { throw PipelineError.plan("task \(task.id) reads \(id), not in the plan") }
        return try cache.read(source.key, file: file)
    }

    /// The cache key of the task's input in `role`.
    private func key(_ task: PlannedTask, _ role: PlannedTask.Input.Role, plan: Plan) throws -> String {
        guard let id = task.input(role), let source = plan.task(id) else {
            throw PipelineError.plan("task \(task.id) has no \(role.rawValue) input")
        }
        return source.key
    }

    private func read(_ task: PlannedTask, _ role: PlannedTask.Input.Role, plan: Plan, file: String) throws -> Data {
        guard let id = task.input(role), let source = plan.task(id) else {
            throw PipelineError.plan("task \(task.id) has no \(role.rawValue) input")
        }
        return try cache.read(source.key, file: file)
    }

    private func input<T: Decodable>(_ task: PlannedTask, _ role: PlannedTask.Input.Role, plan: Plan, file: String, as _: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: read(task, role, plan: plan, file: file))
    }

    /// Only the `rows` (ascending) of the points a solve, evaluate or ceiling task works on, read
    /// from the memory-mapped matrix: a per-drug task costs its drug's and the controls' rows, not
    /// the whole screen's. The split it uses is restricted to the same rows.
    private func space(_ task: PlannedTask, plan: Plan, rows: [Int]) throws -> FeatureSpace {
        guard let id = task.input(.points), let source = plan.task(id) else {
            throw PipelineError.plan("task \(task.id) has no points input")
        }
        switch source.stage {
        case .pca:
            let model = try memo.value("pca.json \(source.key)") {
                try JSONDecoder().decode(StageFiles.PCAModelFile.self, from: cache.read(source.key, file: "pca.json"))
            }
            let points = try mapped(source, "scores.npy").rows(at: rows)
            return FeatureSpace(points: points, components: model.model.components, featureNames: model.featureNames, trueMap: nil)
        case .load:
            let labels = try labels(source.key)
            let features = try memo.value("features \(source.key)") { try StageFiles.features(cache, key: source.key, labels: labels) }
            let points = try features.rows(at: rows)
            let trueMap = try labels.hasTrueMap ? mapped(source, "true_map.npy").rows(at: rows) : nil
            return FeatureSpace(points: points, components: nil, featureNames: labels.featureNames, trueMap: trueMap)
        default: throw PipelineError.plan("task \(task.id) reads its points from \(source.id), neither a pca nor a load task")
        }
    }
}
