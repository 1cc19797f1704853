import AnnData
import Foundation
import LinearAlgebra
import Stages

/// `report.save_predictions`: one .h5ad per drug and PCA size that scanpy opens, holding the test
/// control cells, the test treated cells and every method's prediction for every seed.
///
/// X is in feature space (the PCA inverse: mean + scores·components), obsm `X_pca` holds the PCA
/// coordinates the metrics were computed in. Every row traces back to a cell of the data file:
/// obs names are `<cell>:seed<s>` for the observed test cells and `<cell>:<method>:seed<s>` for
/// the prediction of control cell `<cell>` (a cell is in several seeds' test sets, so the seed
/// keeps the names unique), and obs has `source_cell` (the data file's obs name), `condition`
/// (`control`, `treated` or `predicted`), `drug` (the control label on control rows; the drug
/// the map was fitted for on predicted rows), `method` (`control`, `treated`, or the method's
/// name), `split` (always `test`), `seed` and `retained_mass` (on predicted rows, the control
/// cell's retained mass under the map's plan, `TransportMap.retainedMass`: 1 for balanced maps;
/// NaN on observed rows and where the map cannot say). With `pca: none`, X holds the points the metrics
/// were computed in and there is no `X_pca`; the file is then named after the feature
/// dimension (`<drug>_d<D>.h5ad`).
enum PredictionWriter {
    static let folderName = "predictions"

    /// The file of one drug's predictions at one d, in `folderName`.
    static func fileName(drug: String, components: Int) -> String { "\(ReportWriter.plotName(drug))_d\(components).h5ad" }

    /// Writes `predictions/<drug>_d<k>.h5ad` under `folder`; returns the files written.
    @discardableResult
    static func write(spec: PipelineSpec, pipelineFile: String, plan: Plan, cache: TaskCache, folder: URL) throws -> [URL] {
        let output = folder.appendingPathComponent(folderName)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let decoder = JSONDecoder()
        func read<T: Decodable>(_ id: String, _ file: String, as _: T.Type) throws -> T {
            guard let task = plan.task(id) else { throw PipelineError.plan("no task \(id)") }
            return try decoder.decode(T.self, from: cache.read(task.key, file: file))
        }
        var written: [URL] = []
        let cellNames = try AnnDataReader.obsNames(DataCheck.resolvedDataPath(spec, pipelineFile: pipelineFile))
        let controlLabel = spec.data.control.value
        for space in plan.spaces {
            let d = space.components
            let pca: PCAOutput?, points: Matrix<Float>, featureNames: [String]
            if space.features == nil {
                guard let task = plan.task(space.source) else { throw PipelineError.plan("no task \(space.source) in the plan") }
                let output = try StageFiles.pca(cache, key: task.key)
                (pca, points, featureNames) = (output, output.scores, output.featureNames)
            } else {
                guard let task = plan.task(space.source) else { throw PipelineError.plan("no task \(space.source) in the plan") }
                let loaded = try StageFiles.loaded(cache, key: task.key)
                (pca, points, featureNames) = (nil, loaded.features, loaded.featureNames)
            }
            guard cellNames.count == points.rows else {
                throw PipelineError.plan("\(spec.data.path.value): \(cellNames.count) obs names but \(points.rows) loaded cells; the data file changed since the run")
            }
            for drug in plan.drugs {
                var scores: [[Float]] = [], rows = PredictionRows()
                for seed in spec.split.seeds {
                    let split = try read("split/\(drug)/seed\(seed)", "split.json", as: DrugSplit.self)
                    let control = points.rows(at: split.testControl)
                    func append(_ points: Matrix<Float>, cells: [Int], condition: String, drug rowDrug: String, method: String,
                                retainedMass: [Double]? = nil) {
                        for (i, cell) in cells.enumerated() {
                            rows.retainedMass.append(retainedMass?[i] ?? .nan)
                            scores.append(Array(points.row(i)))
                            let name = cellNames[cell]
                            rows.names.append(condition == "predicted" ? "\(name):\(method):seed\(seed)" : "\(name):seed\(seed)")
                            rows.sourceCells.append(name)
                            rows.conditions.append(condition)
                            rows.drugs.append(rowDrug)
                            rows.methods.append(method)
                            rows.seeds.append(Int64(seed))
                        }
                    }
                    append(control, cells: split.testControl, condition: "control", drug: controlLabel, method: "control")
                    append(points.rows(at: split.testTreated), cells: split.testTreated, condition: "treated", drug: drug, method: "treated")
                    for method in spec.methods {
                        let id = "solve/\(drug)/d\(d)/seed\(seed)/\(method.name)"
                        guard let task = plan.task(id), cache.contains(task.key) else { continue }
                        let map = try method.method.decodeMap(cache.read(task.key, file: "map.json"))
                        append(try map.transport(control), cells: split.testControl, condition: "predicted", drug: drug, method: method.name,
                               retainedMass: try map.retainedMass(control))
                    }
                }
                guard !scores.isEmpty else { continue }
                let pcaScores = Matrix<Float>(rows: scores.count, cols: d) { i, j in scores[i][j] }
                var obs = DataFrame(index: rows.names)
                try obs.setColumn("source_cell", .string(rows.sourceCells))
                try obs.setColumn("condition", .categorical(Categorical(values: rows.conditions)))
                try obs.setColumn("drug", .categorical(Categorical(values: rows.drugs)))
                try obs.setColumn("method", .categorical(Categorical(values: rows.methods)))
                try obs.setColumn("split", .categorical(Categorical(values: Array(repeating: "test", count: scores.count))))
                try obs.setColumn("seed", .integer(rows.seeds))
                try obs.setColumn("retained_mass", .double(rows.retainedMass))
                let featureCount = pca?.model.featureCount ?? d
                let names = featureNames.count == featureCount ? featureNames : (0..<featureCount).map { "feature\($0)" }
                let data = AnnData<Float>(
                    X: .dense(try pca?.model.inverseTransform(pcaScores) ?? pcaScores), obs: obs, var: DataFrame(index: names),
                    obsm: pca == nil ? [:] : ["X_pca": pcaScores])
                let file = output.appendingPathComponent(fileName(drug: drug, components: d))
                try AnnDataWriter.write(data, to: file.path)
                written.append(file)
            }
        }
        return written
    }
}

/// The obs columns of a predictions file, one entry per row.
private struct PredictionRows {
    var names: [String] = []
    var sourceCells: [String] = []
    /// A predicted cell's control cell's retained mass under the map's plan (1 for balanced
    /// maps); NaN on observed rows and where the map cannot say.
    var retainedMass: [Double] = []
    var conditions: [String] = []
    var drugs: [String] = []
    var methods: [String] = []
    var seeds: [Int64] = []
}
