import Foundation
import LinearAlgebra
import Stages
import Transport

/// The PCA task's output: the model and the scores of every loaded cell.
struct PCAOutput: Codable {
    let model: PCAModel
    let scores: Matrix<Float>
    /// The loaded features' names, to name the features a map moves most.
    let featureNames: [String]
}

/// The points solve and evaluate work on: PCA scores, or the features themselves (`pca: none`).
struct SolverSpace {
    let points: Matrix<Float>
    /// Rows: the directions of the solver's coordinates in feature space; nil without PCA, where
    /// the coordinates are the features.
    let components: Matrix<Double>?
    let featureNames: [String]
    /// Each cell's true image T₀(x) (`data.true_map`), only without PCA.
    let trueMap: Matrix<Float>?
}

/// What the solve task records besides the fitted map.
struct SolveRecord: Codable {
    let method: String
    let solver: String
    let seconds: Double
    let converged: Bool
    /// `TransportMap.diagnostics` of the fitted map.
    let diagnostics: [String: Double]
    /// `TransportMap.solverSteps`: every Sinkhorn run of the fit.
    let steps: [SolverStep]
}

/// The evaluate task's output: one row of results per metric.
public struct EvaluationRecord: Codable, Sendable, Equatable {
    public let drug: String
    public let components: Int
    public let seed: UInt64
    public let method: String
    /// Metric name → value, in the pipeline's metric order.
    public let metrics: [String: Double]
    public let epsilon: Double
    /// Whether the solver and the divergence's Sinkhorn runs converged.
    public let converged: Bool
    /// Fitting time of the map.
    public let seconds: Double
    /// `Metrics.displacementDimensionality` of the map on the test control cells: how many
    /// features it moves, on average (descriptive, not ranked).
    public let displacementDimensionality: Double
    /// The 75th percentile over those cells of the number of features moved (the sparsity
    /// paper's second figure); nil in evaluations written before it existed.
    public let displacementDimensionalityP75: Double?
    /// `Metrics.movedFeatureRecovery` against the true images, where the data has them
    /// (`data.true_map`); nil otherwise, or when nothing moved.
    public let movedPrecision: Double?
    public let movedRecall: Double?
    /// The features the map moves most on the test control cells (`Metrics.mostMovedFeatures`).
    public let mostMovedFeatures: [MovedFeature]
    /// The solver's own numbers (`TransportMap.diagnostics`), e.g. the sparse ICNN's final λ.
    public let diagnostics: [String: Double]
    /// Every Sinkhorn run of the fit (`TransportMap.solverSteps`), for `steps.csv`.
    public let solverSteps: [SolverStep]
    /// The first two principal components of the test control cells, the test treated cells
    /// and the prediction, for the report's scatter plots.
    public let preview: Preview

    public struct Preview: Codable, Sendable, Equatable {
        public let control: [[Float]]
        public let treated: [[Float]]
        public let predicted: [[Float]]
    }
}

/// Runs one planned task: decodes its inputs from the cache, calls the stage, encodes its outputs.
/// The file names here are the cache's entry layout.
struct StageExecutor: Sendable {
    let spec: PipelineSpec
    let dataPath: String
    let cache: TaskCache

    func run(_ task: PlannedTask, plan: Plan) throws -> [String: Data] {
        let encoder = JSONEncoder()
        func input<T: Decodable>(_ index: Int, _ file: String, as _: T.Type) throws -> T {
            guard index < task.inputs.count, let source = plan.task(task.inputs[index]) else {
                throw PipelineError.plan("task \(task.id) lacks input \(index)")
            }
            return try JSONDecoder().decode(T.self, from: cache.read(source.key, file: file))
        }
        let at = task.coordinates
        switch task.stage {
        case .load:
            let transform: Load.Transform
            switch spec.data.transform {
            case .none: transform = .none
            case .log1p: transform = .log1p
            case .normalize_log1p: transform = .normalizeLog1p(targetSum: spec.data.targetSum)
            }
            let features = at.features ?? spec.data.features.value
            let index = spec.data.featureSets.firstIndex { $0.value == features } ?? 0
            let loaded = try Load.run(path: dataPath, conditionKey: spec.data.conditionKey.value,
                                      features: features, transform: transform, varNames: plan.varNames,
                                      trueMap: spec.data.trueMaps?[index].value)
            return ["loaded.json": try encoder.encode(loaded)]
        case .split:
            let loaded = try input(0, "loaded.json", as: LoadedData.self)
            guard let drug = at.drug, let seed = at.seed else { throw PipelineError.plan("split task \(task.id) lacks its drug or seed") }
            let split = try DrugSplit.make(drug: drug, control: loaded.cells(labelled: spec.data.control.value),
                                           treated: loaded.cells(labelled: drug), testFraction: spec.split.testFraction, seed: seed)
            return ["split.json": try encoder.encode(split)]
        case .pca:
            let loaded = try input(0, "loaded.json", as: LoadedData.self)
            guard let components = at.components else { throw PipelineError.plan("pca task \(task.id) lacks its size") }
            let labels = Set([spec.data.control.value] + plan.drugs)
            let rows = loaded.conditions.indices.filter { loaded.conditions[$0].map(labels.contains) ?? false }
            let model = try PCAModel.fit(loaded.features.rows(at: rows), components: components)
            let output = PCAOutput(model: model, scores: try model.transform(loaded.features), featureNames: loaded.featureNames)
            return ["pca.json": try encoder.encode(output)]
        case .solve:
            let space = try solverSpace(task, plan: plan, input: 0)
            let split = try input(1, "split.json", as: DrugSplit.self)
            let method = try methodSpec(at.method ?? "")
            guard let solver = SolverRegistry.solver(named: method.solver) else {
                throw PipelineError.plan("unknown solver \(method.solver)")
            }
            var rng = SeededRNG(seed: split.seed)
            let start = DispatchTime.now().uptimeNanoseconds
            let map = try solver.make(method.parameters).fit(
                source: space.points.rows(at: split.trainControl), target: space.points.rows(at: split.trainTreated), rng: &rng)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let record = SolveRecord(method: method.name, solver: method.solver, seconds: seconds, converged: map.converged,
                                     diagnostics: map.diagnostics, steps: map.solverSteps)
            return ["map.json": try encoder.encode(map), "solve.json": try encoder.encode(record)]
        case .evaluate:
            let record = try input(0, "solve.json", as: SolveRecord.self)
            guard let solver = SolverRegistry.solver(named: record.solver) else {
                throw PipelineError.plan("unknown solver \(record.solver)")
            }
            guard let solveTask = plan.task(task.inputs[0]) else { throw PipelineError.plan("task \(task.id) lacks its solve input") }
            let map = try solver.decodeMap(try cache.read(solveTask.key, file: "map.json"))
            let space = try solverSpace(task, plan: plan, input: 1)
            let split = try input(2, "split.json", as: DrugSplit.self)
            let control = space.points.rows(at: split.testControl)
            let predicted = try map.transport(control)
            let observed = space.points.rows(at: split.testTreated)
            let epsilon = try spec.evaluate.sinkhornEpsilon ?? Metrics.evaluationEpsilon(testTreated: observed)
            var values: [String: Double] = [:]
            var converged = record.converged
            for metric in spec.evaluate.metrics {
                switch metric {
                case .sinkhorn_divergence:
                    let divergence = try Metrics.sinkhornDivergence(predicted, observed, epsilon: epsilon)
                    values[metric.rawValue] = divergence.value
                    converged = converged && divergence.converged
                case .mmd: values[metric.rawValue] = Metrics.mmd(predicted, observed)
                case .mean_l2: values[metric.rawValue] = Metrics.meanDistance(predicted, observed)
                case .map_mse, .l2_uvp:
                    guard let trueMap = space.trueMap else {
                        throw PipelineError.plan("\(metric.rawValue) needs the true images of data.true_map in feature space (pca: none)")
                    }
                    let truth = trueMap.rows(at: split.testControl)
                    values[metric.rawValue] = metric == .map_mse
                        ? try Metrics.mapMSE(predicted: predicted, truth: truth)
                        : try Metrics.l2UVP(predicted: predicted, truth: truth)
                }
            }
            let rule: Metrics.MovedRule = spec.evaluate.movedThreshold.map { .absolute($0) } ?? .default
            let moved = Metrics.movedCounts(control: control, predicted: predicted, components: space.components, rule: rule)
            let recovery = try space.trueMap.map {
                try Metrics.movedFeatureRecovery(control: control, predicted: predicted,
                                                 truth: $0.rows(at: split.testControl), rule: rule)
            }
            let evaluation = EvaluationRecord(drug: at.drug ?? split.drug, components: space.points.cols, seed: split.seed,
                                              method: record.method, metrics: values, epsilon: epsilon,
                                              converged: converged, seconds: record.seconds,
                                              displacementDimensionality: Metrics.mean(of: moved),
                                              displacementDimensionalityP75: Metrics.quantile(moved.map(Double.init), 0.75),
                                              movedPrecision: recovery?.precision, movedRecall: recovery?.recall,
                                              mostMovedFeatures: Metrics.mostMovedFeatures(
                                                  control: control, predicted: predicted, components: space.components,
                                                  names: space.featureNames, count: 5),
                                              diagnostics: record.diagnostics, solverSteps: record.steps,
                                              preview: .init(control: firstTwo(control),
                                                             treated: firstTwo(observed), predicted: firstTwo(predicted)))
            return ["evaluation.json": try encoder.encode(evaluation)]
        }
    }

    /// The points a solve or evaluate task works on, read from its input `index`: a pca task's
    /// scores, or (with `pca: none`) a load task's features as they are, with no components and
    /// perhaps the true images.
    private func solverSpace(_ task: PlannedTask, plan: Plan, input index: Int) throws -> SolverSpace {
        guard index < task.inputs.count, let source = plan.task(task.inputs[index]) else {
            throw PipelineError.plan("task \(task.id) lacks input \(index)")
        }
        switch source.stage {
        case .pca:
            let pca = try JSONDecoder().decode(PCAOutput.self, from: cache.read(source.key, file: "pca.json"))
            return SolverSpace(points: pca.scores, components: pca.model.components, featureNames: pca.featureNames, trueMap: nil)
        case .load:
            let loaded = try JSONDecoder().decode(LoadedData.self, from: cache.read(source.key, file: "loaded.json"))
            return SolverSpace(points: loaded.features, components: nil,
                               featureNames: loaded.featureNames, trueMap: loaded.trueMap)
        default:
            throw PipelineError.plan("task \(task.id) reads its points from \(source.id), neither a pca nor a load task")
        }
    }

    private func firstTwo(_ points: Matrix<Float>) -> [[Float]] {
        (0..<points.rows).map { i in (0..<Swift.min(2, points.cols)).map { points[i, $0] } }
    }

    private func methodSpec(_ name: String) throws -> PipelineSpec.MethodSpec {
        guard let method = spec.methods.first(where: { $0.name == name }) else {
            throw PipelineError.plan("no method \(name) in the pipeline")
        }
        return method
    }
}
