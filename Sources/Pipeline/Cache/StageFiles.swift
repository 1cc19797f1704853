import Foundation
import LinearAlgebra
import Stages

/// The cache-entry layout of the stage outputs that hold matrices: the matrices as `.npy` files
/// (`MatrixFile`), everything else as small JSON, so a task that needs only the labels (a split)
/// or a few rows does not read the whole data. Load: `loaded.json` (labels and names),
/// `features.npy`, `true_map.npy` when asked for. PCA: `pca.json` (the model and the feature
/// names), `scores.npy`.
enum StageFiles {
    /// What a load task writes besides its matrices.
    struct LoadedLabels: Codable {
        let conditions: [String?]
        let featureNames: [String]
        let holdoutGroups: [String?]?
        let rows: Int
        let cols: Int
        let hasTrueMap: Bool
        /// Each cell's context (`data.context_key`); absent without one.
        var contexts: [String?]? = nil

        /// Rows whose condition is `label` (in `context`, when given).
        func cells(labelled label: String, context: String? = nil) -> [Int] {
            ConditionTable(conditions: conditions, contexts: contexts).cells(labelled: label, context: context)
        }
    }

    /// What a pca task writes besides its scores.
    struct PCAModelFile: Codable {
        let model: PCAModel
        let featureNames: [String]
    }

    /// The matrices are written straight to scratch files of the cache (not copied into memory
    /// as bytes first) and moved into the entry.
    static func files(_ loaded: LoadedData, cache: TaskCache) throws -> EntryFiles {
        var labels = LoadedLabels(conditions: loaded.conditions, featureNames: loaded.featureNames, holdoutGroups: loaded.holdoutGroups,
                                  rows: loaded.features.rows, cols: loaded.features.cols, hasTrueMap: loaded.trueMap != nil)
        labels.contexts = loaded.contexts
        var files = EntryFiles(["loaded.json": try JSONEncoder().encode(labels)])
        files.prepared["features.npy"] = try MatrixFile.write(loaded.features, to: cache.scratchFile("features.npy"))
        if let trueMap = loaded.trueMap { files.prepared["true_map.npy"] = try MatrixFile.write(trueMap, to: cache.scratchFile("true_map.npy")) }
        return files
    }

    static func labels(_ cache: TaskCache, key: String) throws -> LoadedLabels {
        try JSONDecoder().decode(LoadedLabels.self, from: cache.read(key, file: "loaded.json"))
    }

    static func loaded(_ cache: TaskCache, key: String) throws -> LoadedData {
        let labels = try labels(cache, key: key)
        let features = try MatrixFile.decode(cache.mapped(key, file: "features.npy"), name: "features.npy of entry \(key)")
        let trueMap = try labels.hasTrueMap ? MatrixFile.decode(cache.mapped(key, file: "true_map.npy"), name: "true_map.npy of entry \(key)") : nil
        var loaded = LoadedData(features: features, conditions: labels.conditions, featureNames: labels.featureNames, trueMap: trueMap)
        loaded.holdoutGroups = labels.holdoutGroups
        loaded.contexts = labels.contexts
        return loaded
    }

    static func files(_ output: PCAOutput) throws -> [String: Data] {
        ["pca.json": try JSONEncoder().encode(PCAModelFile(model: output.model, featureNames: output.featureNames)),
         "scores.npy": MatrixFile.encode(output.scores)]
    }

    static func pca(_ cache: TaskCache, key: String) throws -> PCAOutput {
        let file = try JSONDecoder().decode(PCAModelFile.self, from: cache.read(key, file: "pca.json"))
        let scores = try MatrixFile.decode(cache.mapped(key, file: "scores.npy"), name: "scores.npy of entry \(key)")
        return PCAOutput(model: file.model, scores: scores, featureNames: file.featureNames)
    }
}
