import Crypto
import Foundation
import Stages

/// One unit of work of a pipeline run; its output lands in the cache under `key`.
public struct PlannedTask: Sendable, Equatable {
    public enum Stage: String, Sendable, Codable, CaseIterable {
        case load, pca, split, solve, evaluate, ceiling
        case geneScore = "gene_score"
    }

    /// Which drug, PCA size, seed and method the task is for (those that apply to its stage).
    public struct Coordinates: Sendable, Equatable {
        public var drug: String?
        public var components: Int?
        public var seed: UInt64?
        public var method: String?
        /// The feature set a load task reads (nil: the only one, `data.features`).
        public var features: String?
    }

    /// Human-readable and unique within the plan, e.g. `solve/cisplatin/d16/seed0/progot`.
    public let id: String
    public let stage: Stage
    public let coordinates: Coordinates
    /// Canonical JSON (sorted keys) of the stage's typed parameters: everything that determines
    /// the output besides the inputs, and what the stage runs with.
    public let parameters: String
    /// The tasks whose outputs this one reads, each in its role, in a fixed order.
    public let namedInputs: [Input]
    /// SHA-256 over (stage, stage version, parameters, input keys).
    public let key: String

    /// An input of a task: which task's output, read as what.
    public struct Input: Sendable, Equatable {
        public enum Role: String, Sendable {
            /// The loaded data (load's output).
            case data
            /// The points solve and evaluate work on (a pca task's, or a load task's with `pca: none`).
            case points
            /// A drug's train/test split.
            case split
            /// The solve task whose map an evaluate task scores.
            case solve
        }

        public let role: Role
        public let task: String
    }

    /// Ids of the tasks whose outputs this one reads, in a fixed order.
    public var inputs: [String] { namedInputs.map(\.task) }

    /// The id of the input in `role`.
    public func input(_ role: Input.Role) -> String? { namedInputs.first { $0.role == role }?.task }

    /// The ids of every input in `role`, in order (a gene_score task reads one split and one
    /// solve per drug).
    public func inputs(_ role: Input.Role) -> [String] { namedInputs.filter { $0.role == role }.map(\.task) }

    /// The typed parameters the key hashed.
    func decodedParameters<Parameters: Decodable>(as _: Parameters.Type) throws -> Parameters {
        do {
            return try JSONDecoder().decode(Parameters.self, from: Data(parameters.utf8))
        } catch {
            throw PipelineError.plan("task \(id): its parameters do not decode as a \(stage.rawValue) task's (\(error))")
        }
    }
}

/// Bump a stage's version when its code changes what it computes: old cache entries are then
/// no longer found.
enum StageVersion {
    static func of(_ stage: PlannedTask.Stage) -> Int {
        switch stage {
        // load 2, pca 3: matrices in .npy files beside small JSON (`StageFiles`); load 3: the
        // labels as int32 codes (`labels.npy`), not per-cell JSON
        case .load: return 3
        case .split: return 1
        case .pca: return 3  // 2: feature names
        // 2: map diagnostics; 3: Monge gap plans from a Double cost matrix; 4: every Sinkhorn
        // run of the fit recorded (solver steps)
        case .solve: return 4
        // 2: PC preview for the scatter plots; 3: displacement dimensionality; 4: most-moved
        // features and map diagnostics; 5: solver steps; 6: the dimensionality's 75th percentile
        // and the moved features' precision and recall
        // 7: the half-sample scores of the normalised score
        case .evaluate: return 7
        case .ceiling: return 1
        case .geneScore: return 1
        }
    }
}

/// The DAG of a pipeline: drugs × PCA sizes (or feature sets, with `pca: none`) × seeds ×
/// methods expanded into tasks, in an order where every task comes after its inputs.
///
/// With `pca: none` there is no pca task: solve and evaluate read the load task of their
/// feature set, whose points they use as they are. One feature set keeps the ids of a PCA plan
/// (`load`, `solve/<drug>/d<D>/…` with D the feature dimension); several get one load task each,
/// `load/<features>`, and the splits are made from the first (every set has the same cells).
public struct Plan: Sendable {
    /// One d column of the report: a PCA size, or a feature set's dimension with `pca: none`,
    /// and the task whose output holds the points (`pca/d<k>` or a load task).
    public struct Space: Sendable, Equatable {
        public let components: Int
        public let source: String
        /// nil for a PCA space.
        public let features: String?
    }

    public let tasks: [PlannedTask]
    /// The drugs the run covers (resolved from `all`), in data order.
    public let drugs: [String]
    /// The columns of X the load stage keeps (`data.var_names`); nil keeps all.
    public let varNames: [String]?
    /// The report's d columns, in order.
    public let spaces: [Space]

    /// The d values of the report's columns.
    public var components: [Int] { spaces.map(\.components) }

    /// Task id → position in `tasks`: a screen's plan holds tens of thousands of tasks, and every
    /// task looks its inputs up by id.
    private let positions: [String: Int]

    public init(tasks: [PlannedTask], drugs: [String], varNames: [String]?, spaces: [Space]) {
        self.tasks = tasks
        self.drugs = drugs
        self.varNames = varNames
        self.spaces = spaces
        positions = Dictionary(tasks.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func task(_ id: String) -> PlannedTask? { positions[id].map { tasks[$0] } }

    /// - Parameters:
    ///   - dataDigest: SHA-256 of the data file's bytes: the file enters the keys by its content,
    ///     not its path, so a changed file changes every key and a moved one changes none.
    ///   - availableLabels: the condition labels present in the data (for `drugs: all`).
    ///   - varNames: the columns of X to keep (`data.var_names`), nil for all.
    ///   - featureDimensions: each feature set's number of columns (needed with `pca: none`,
    ///     whose d columns they are).
    public static func make(_ spec: PipelineSpec, dataDigest: String, availableLabels: [String],
                            varNames: [String]? = nil, featureDimensions: [String: Int] = [:]) throws -> Plan {
        let control = spec.data.control.value
        let contexts = spec.data.contextKey != nil
        let drugs: [String]
        switch spec.drugs {
        case .all: drugs = availableLabels.filter { $0 != control }
        case .list(let list) where contexts:
            // With contexts, `cisplatin_10` is that condition in every context that has it, and
            // `A549/cisplatin_10` the one problem.
            var expanded: [String] = [], seen: Set<String> = []
            for entry in list.map(\.value) {
                let matching = entry.contains(ConditionTable.contextSeparator)
                    ? [entry] : availableLabels.filter { ConditionTable.parts(of: $0).condition == entry }
                for id in matching where seen.insert(id).inserted { expanded.append(id) }
            }
            drugs = expanded
        case .list(let list): drugs = list.map(\.value)
        }
        guard !drugs.isEmpty else { throw PipelineError.plan("no drugs to run") }
        /// Each problem's context (nil without contexts) and condition.
        func parts(_ drug: String) -> (context: String?, condition: String) {
            contexts ? ConditionTable.parts(of: drug) : (nil, drug)
        }
        var builder = Builder()
        // One load task per feature set. The parameters of a pipeline without data.true_map are
        // those of the plans before it existed, so their cache keys stay the same.
        let featureSets = spec.data.featureSets.map(\.value)
        var loads: [String] = []
        for (index, features) in featureSets.enumerated() {
            var parameters = Load.Parameters(
                sha256: dataDigest, conditionKey: spec.data.conditionKey.value, features: features,
                transform: spec.data.transform.rawValue, targetSum: spec.data.targetSum, varNames: varNames ?? [],
                trueMap: spec.data.trueMaps?[index].value, holdoutKey: index == 0 ? spec.split.holdout?.key.value : nil)
            if spec.data.hasCompositeConditions {
                parameters.conditionKeys = spec.data.conditionKeys.count > 1 ? spec.data.conditionKeys.map(\.value) : nil
                parameters.contextKey = spec.data.contextKey?.value
                parameters.control = control
            }
            let single = featureSets.count == 1
            loads.append(try builder.add(single ? "load" : "load/\(features)", .load,
                                         .init(features: single ? nil : features), parameters, inputs: []))
        }
        for seed in spec.split.seeds {
            for drug in drugs {
                let (context, condition) = parts(drug)
                var parameters = DrugSplit.Parameters(drug: condition, control: control, seed: seed, testFraction: spec.split.testFraction,
                                                      holdoutValues: spec.split.holdout?.values.map(\.value))
                parameters.context = context
                try builder.add("split/\(drug)/seed\(seed)", .split, .init(drug: drug, seed: seed), parameters,
                                inputs: [.init(role: .data, task: loads[0])])
            }
        }
        // The d columns: the pca tasks are added just before the tasks that read them (the
        // order `run --dry-run` lists).
        var columns: [(components: Int, features: String?)] = []
        switch spec.pca {
        case .components(let sizes):
            columns = sizes.map { ($0.value, nil) }
        case .disabled:
            for features in featureSets {
                guard let dimension = featureDimensions[features] else {
                    throw PipelineError.plan("the dimension of feature set \(features) is not known")
                }
                columns.append((dimension, features))
            }
        }
        var spaces: [Space] = []
        // The noise ceiling needs only the two-cloud metrics and their ε (a changed moved
        // threshold or true-map metric does not recompute it).
        let ceilingParameters = Evaluate.Parameters(metrics: spec.evaluate.metrics.filter { !$0.needsTrueMap },
                                                    sinkhornEpsilon: spec.evaluate.sinkhornEpsilon)
        for (index, column) in columns.enumerated() {
            let source: String
            if column.features == nil {
                var parameters = PCAOutput.Parameters(components: column.components, control: control, drugs: drugs)
                if contexts {
                    // One PCA for the whole screen: the control and run conditions of the run's contexts.
                    parameters = PCAOutput.Parameters(components: column.components, control: control,
                                                      drugs: unique(drugs.map { parts($0).condition }))
                    parameters.contexts = unique(drugs.compactMap { parts($0).context })
                }
                source = try builder.add("pca/d\(column.components)", .pca, .init(components: column.components), parameters,
                                         inputs: [.init(role: .data, task: loads[0])])
            } else {
                source = loads[index]
            }
            let space = Space(components: column.components, source: source, features: column.features)
            spaces.append(space)
            let components = space.components
            for seed in spec.split.seeds {
                for drug in drugs {
                    let split = "split/\(drug)/seed\(seed)"
                    if !ceilingParameters.metrics.isEmpty {
                        try builder.add("ceiling/\(drug)/d\(components)/seed\(seed)", .ceiling,
                                        PlannedTask.Coordinates(drug: drug, components: components, seed: seed), ceilingParameters,
                                        inputs: [.init(role: .points, task: space.source), .init(role: .split, task: split)])
                    }
                    for method in spec.methods {
                        let prefix = "\(drug)/d\(components)/seed\(seed)/\(method.name)"
                        let coordinates = PlannedTask.Coordinates(drug: drug, components: components, seed: seed, method: method.name)
                        let solve = try builder.add("solve/\(prefix)", .solve, coordinates,
                                                    Solve.Parameters(method: method.name, configured: method.method),
                                                    inputs: [.init(role: .points, task: space.source), .init(role: .split, task: split)])
                        try builder.add("evaluate/\(prefix)", .evaluate, coordinates, spec.evaluate,
                                        inputs: [.init(role: .solve, task: solve), .init(role: .points, task: space.source),
                                                 .init(role: .split, task: split)])
                    }
                }
            }
            // Gene space: per seed and method, every drug's prediction decoded and scored
            // together (cell-eval's discrimination score compares the drugs); with contexts, one
            // task per context, each against its own control cells.
            if let geneMetrics = spec.geneMetrics {
                let groups: [(context: String?, drugs: [String])] = contexts
                    ? unique(drugs.compactMap { parts($0).context }).map { context in (context, drugs.filter { parts($0).context == context }) }
                    : [(nil, drugs)]
                for group in groups {
                    let parameters = GeneScore.Parameters(
                        metrics: geneMetrics, control: control, drugs: group.drugs, decode: spec.geneDecode,
                        truePrograms: geneMetrics.contains(GeneScore.programRecall) ? spec.data.truePrograms?.value : nil)
                    for seed in spec.split.seeds {
                        for method in spec.methods {
                            let data = column.features == nil ? loads[0] : loads[index]
                            var inputs: [PlannedTask.Input] = [.init(role: .data, task: data), .init(role: .points, task: space.source)]
                            for drug in group.drugs {
                                inputs.append(.init(role: .split, task: "split/\(drug)/seed\(seed)"))
                                inputs.append(.init(role: .solve, task: "solve/\(drug)/d\(components)/seed\(seed)/\(method.name)"))
                            }
                            let context = group.context.map { "\($0)/" } ?? ""
                            try builder.add("gene_score/\(context)d\(components)/seed\(seed)/\(method.name)", .geneScore,
                                            PlannedTask.Coordinates(components: components, seed: seed, method: method.name), parameters,
                                            inputs: inputs)
                        }
                    }
                }
            }
        }
        return Plan(tasks: builder.tasks, drugs: drugs, varNames: varNames, spaces: spaces)
    }

    private struct Builder {
        var tasks: [PlannedTask] = []
        var keys: [String: String] = [:]

        @discardableResult
        mutating func add(_ id: String, _ stage: PlannedTask.Stage, _ coordinates: PlannedTask.Coordinates,
                          _ parameters: some Encodable, inputs: [PlannedTask.Input]) throws -> String {
            guard !keys.keys.contains(id) else { throw PipelineError.plan("two tasks are named \(id) (a drug or method name containing '/'?)") }
            let canonical = try canonicalJSON(parameters)
            var hasher = SHA256()
            hasher.update(data: Data("\(stage.rawValue)\n\(StageVersion.of(stage))\n\(canonical)\n".utf8))
            for input in inputs.map(\.task) {
                guard let key = keys[input] else { throw PipelineError.plan("task \(id) reads \(input), planned later") }
                hasher.update(data: Data("\(key)\n".utf8))
            }
            let key = hexDigest(hasher.finalize())
            tasks.append(PlannedTask(id: id, stage: stage, coordinates: coordinates, parameters: canonical, namedInputs: inputs, key: key))
            keys[id] = key
            return id
        }
    }
}

/// The values in order of first appearance, each once.
func unique(_ values: [String]) -> [String] {
    var seen: Set<String> = []
    return values.filter { seen.insert($0).inserted }
}

/// JSON with sorted keys and no insignificant whitespace: equal parameters give equal text.
func canonicalJSON(_ parameters: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(parameters), as: UTF8.self)
}

/// `canonicalJSON` of a dictionary of mixed values.
func canonicalJSON(_ parameters: [String: any Encodable]) throws -> String {
    try canonicalJSON(parameters.mapValues(AnyEncodable.init))
}

private struct AnyEncodable: Encodable {
    let value: any Encodable
    func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}
