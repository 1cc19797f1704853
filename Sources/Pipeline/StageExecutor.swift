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
            let loaded = try Load.run(path: dataPath, conditionKey: spec.data.conditionKey.value,
                                      features: spec.data.features.value, transform: transform, varNames: plan.varNames)
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
            let pca = try input(0, "pca.json", as: PCAOutput.self)
            let split = try input(1, "split.json", as: DrugSplit.self)
            let method = try methodSpec(at.method ?? "")
            guard let solver = SolverRegistry.solver(named: method.solver) else {
                throw PipelineError.plan("unknown solver \(method.solver)")
            }
            var rng = SeededRNG(seed: split.seed)
            let start = DispatchTime.now().uptimeNanoseconds
            let map = try solver.make(method.parameters).fit(
                source: pca.scores.rows(at: split.trainControl), target: pca.scores.rows(at: split.trainTreated), rng: &rng)
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
            let pca = try input(1, "pca.json", as: PCAOutput.self)
            let split = try input(2, "split.json", as: DrugSplit.self)
            let predicted = try map.transport(pca.scores.rows(at: split.testControl))
            let observed = pca.scores.rows(at: split.testTreated)
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
                }
            }
            let control = pca.scores.rows(at: split.testControl)
            let evaluation = EvaluationRecord(drug: at.drug ?? split.drug, components: pca.model.componentCount, seed: split.seed,
                                              method: record.method, metrics: values, epsilon: epsilon,
                                              converged: converged, seconds: record.seconds,
                                              displacementDimensionality: Metrics.displacementDimensionality(
                                                  control: control, predicted: predicted, components: pca.model.components),
                                              mostMovedFeatures: Metrics.mostMovedFeatures(
                                                  control: control, predicted: predicted, components: pca.model.components,
                                                  names: pca.featureNames, count: 5),
                                              diagnostics: record.diagnostics, solverSteps: record.steps,
                                              preview: .init(control: firstTwo(pca.scores.rows(at: split.testControl)),
                                                             treated: firstTwo(observed), predicted: firstTwo(predicted)))
            return ["evaluation.json": try encoder.encode(evaluation)]
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
