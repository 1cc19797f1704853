import AnnData
import Foundation
import LinearAlgebra
import Stages

/// `report.save_predictions`: one .h5ad per drug and PCA size that scanpy opens, holding the test
/// control cells, the test treated cells and every method's prediction for every seed.
///
/// X is in feature space (the PCA inverse: mean + scores·components), obsm `X_pca` holds the PCA
/// coordinates the metrics were computed in, and obs has `drug`, `split` (always `test`),
/// `method` (`control`, `treated`, or the method's name) and `seed`. With `pca: none`, X holds
/// the points the metrics were computed in and there is no `X_pca`; the file is then named
/// after the feature dimension (`<drug>_d<D>.h5ad`).
enum PredictionWriter {
    static let folderName = "predictions"

    /// Writes `predictions/<drug>_d<k>.h5ad` under `folder`; returns the files written.
    @discardableResult
    static func write(spec: PipelineSpec, plan: Plan, cache: TaskCache, folder: URL) throws -> [URL] {
        let output = folder.appendingPathComponent(folderName)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let decoder = JSONDecoder()
        func read<T: Decodable>(_ id: String, _ file: String, as _: T.Type) throws -> T {
            guard let task = plan.task(id) else { throw PipelineError.plan("no task \(id)") }
            return try decoder.decode(T.self, from: cache.read(task.key, file: file))
        }
        var written: [URL] = []
        for space in plan.spaces {
            let d = space.components
            let pca: PCAOutput?, points: Matrix<Float>, featureNames: [String]
            if space.features == nil {
                let output = try read(space.source, "pca.json", as: PCAOutput.self)
                (pca, points, featureNames) = (output, output.scores, output.featureNames)
            } else {
                let loaded = try read(space.source, "loaded.json", as: LoadedData.self)
                (pca, points, featureNames) = (nil, loaded.features, loaded.featureNames)
            }
            for drug in plan.drugs {
                var scores: [[Float]] = [], methods: [String] = [], seeds: [Int64] = []
                func append(_ points: Matrix<Float>, _ method: String, _ seed: UInt64) {
                    for i in 0..<points.rows {
                        scores.append(Array(points.row(i)))
                        methods.append(method)
                        seeds.append(Int64(seed))
                    }
                }
                for seed in spec.split.seeds {
                    let split = try read("split/\(drug)/seed\(seed)", "split.json", as: DrugSplit.self)
                    let control = points.rows(at: split.testControl)
                    append(control, "control", seed)
                    append(points.rows(at: split.testTreated), "treated", seed)
                    for method in spec.methods {
                        let id = "solve/\(drug)/d\(d)/seed\(seed)/\(method.name)"
                        guard let task = plan.task(id), cache.contains(task.key),
                              let solver = SolverRegistry.solver(named: method.solver) else { continue }
                        let map = try solver.decodeMap(cache.read(task.key, file: "map.json"))
                        append(try map.transport(control), method.name, seed)
                    }
                }
                guard !scores.isEmpty else { continue }
                let pcaScores = Matrix<Float>(rows: scores.count, cols: d) { i, j in scores[i][j] }
                var obs = DataFrame(index: (0..<scores.count).map { "prediction\($0)" })
                try obs.setColumn("drug", .categorical(Categorical(values: Array(repeating: drug, count: scores.count))))
                try obs.setColumn("split", .categorical(Categorical(values: Array(repeating: "test", count: scores.count))))
                try obs.setColumn("method", .categorical(Categorical(values: methods)))
                try obs.setColumn("seed", .integer(seeds))
                let featureCount = pca?.model.featureCount ?? d
                let names = featureNames.count == featureCount ? featureNames : (0..<featureCount).map { "feature\($0)" }
                let data = AnnData<Float>(
                    X: .dense(try pca?.model.inverseTransform(pcaScores) ?? pcaScores), obs: obs, var: DataFrame(index: names),
                    obsm: pca == nil ? [:] : ["X_pca": pcaScores])
                let file = output.appendingPathComponent("\(ReportWriter.plotName(drug))_d\(d).h5ad")
                try AnnDataWriter.write(data, to: file.path)
                written.append(file)
            }
        }
        return written
    }
}
