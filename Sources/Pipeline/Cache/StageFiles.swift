import Foundation
import LinearAlgebra
import Stages

/// The cache-entry layout of the stage outputs that hold matrices: the matrices as `.npy` files
/// (`MatrixFile`), everything else as small JSON, so a task that needs only the labels (a split)
/// or a few rows does not read the whole data. Load: `loaded.json` (the label values and the
/// feature names), `labels.npy` (per cell, one int32 code per label column: condition, then
/// context and holdout group when present; −1 for none), `features.npy`, `true_map.npy` when
/// asked for. PCA: `pca.json` (the model and the feature names), `scores.npy`.
///
/// A split reads `loaded.json` and scans the memory-mapped codes for its cells: its cost does
/// not grow with the number of drugs (a screen's 2,256 splits would otherwise each parse every
/// cell's label as JSON).
enum StageFiles {
    /// What a load task writes besides its matrices: the values each label column takes (its
    /// codes index them) and the feature names.
    struct LoadedLabels: Codable {
        let conditionValues: [String]
        let contextValues: [String]?
        let holdoutValues: [String]?
        let featureNames: [String]
        let rows: Int
        let cols: Int
        let hasTrueMap: Bool
        /// `csr` when the features are the three `features.*.npy` files of a CSR matrix
        /// (`CSRFile`); absent when they are the dense `features.npy`.
        var storage: String? = nil
    }

    /// The label columns of a load entry: the values and the per-cell codes (memory-mapped).
    struct Labels {
        let file: LoadedLabels
        let codes: LabelCodes

        var featureNames: [String] { file.featureNames }
        var hasTrueMap: Bool { file.hasTrueMap }
        var isSparse: Bool { file.storage == "csr" }

        /// Rows whose condition is `label` (in `context`, when given), ascending.
        func cells(labelled label: String, context: String? = nil) -> [Int] {
            guard let condition = file.conditionValues.firstIndex(of: label) else { return [] }
            var contextCode: Int32?
            if let context {
                guard let index = file.contextValues?.firstIndex(of: context) else { return [] }
                contextCode = Int32(index)
            }
            return codes.rows(where: Int32(condition), column: 0, and: contextCode.map { (1, $0) })
        }

        /// Every cell's condition (nil where none).
        var conditions: [String?] { codes.column(0).map { $0 < 0 ? nil : file.conditionValues[Int($0)] } }
        /// Every cell's context; nil without contexts.
        var contexts: [String?]? {
            file.contextValues.map { values in codes.column(1).map { $0 < 0 ? nil : values[Int($0)] } }
        }
        /// Every cell's holdout group; nil without a holdout column.
        var holdoutGroups: [String?]? {
            file.holdoutValues.map { values in codes.column(file.contextValues == nil ? 1 : 2).map { $0 < 0 ? nil : values[Int($0)] } }
        }
    }

    /// Values in order of first appearance and each entry's index among them (−1 for nil).
    static func coded(_ labels: [String?]) -> (values: [String], codes: [Int32]) {
        var values: [String] = [], index: [String: Int32] = [:]
        let codes = labels.map { label -> Int32 in
            guard let label else { return -1 }
            if let code = index[label] { return code }
            let code = Int32(values.count)
            index[label] = code
            values.append(label)
            return code
        }
        return (values, codes)
    }

    /// What a pca task writes besides its scores.
    struct PCAModelFile: Codable {
        let model: PCAModel
        let featureNames: [String]
    }

    /// The matrices are written straight to scratch files of the cache (not copied into memory
    /// as bytes first) and moved into the entry.
    static func files(_ loaded: Load.Output, cache: TaskCache) throws -> EntryFiles {
        let conditions = coded(loaded.conditions)
        let contexts = loaded.contexts.map(coded)
        let holdout = loaded.holdoutGroups.map(coded)
        var labels = LoadedLabels(conditionValues: conditions.values, contextValues: contexts?.values, holdoutValues: holdout?.values,
                                  featureNames: loaded.featureNames, rows: loaded.features.rowCount, cols: loaded.features.columnCount,
                                  hasTrueMap: loaded.trueMap != nil)
        var files = EntryFiles()
        switch loaded.features {
        case .dense(let matrix):
            files.prepared["features.npy"] = try MatrixFile.write(matrix, to: cache.scratchFile("features.npy"))
        case .csr(let sparse):
            labels.storage = "csr"
            files.prepared = try CSRFile.write(sparse, name: "features", cache: cache)
        }
        let columns = [conditions.codes] + [contexts?.codes, holdout?.codes].compactMap { $0 }
        files.bytes = ["loaded.json": try JSONEncoder().encode(labels), "labels.npy": LabelCodes.encode(columns)]
        if let trueMap = loaded.trueMap { files.prepared["true_map.npy"] = try MatrixFile.write(trueMap, to: cache.scratchFile("true_map.npy")) }
        return files
    }

    /// A load entry's features, memory-mapped: dense `features.npy` or the CSR files.
    static func features(_ cache: TaskCache, key: String, labels: Labels) throws -> any RowBlocks {
        guard labels.isSparse else {
            return try MappedMatrix(cache.mapped(key, file: "features.npy"), name: "features.npy of entry \(key)")
        }
        return try MappedCSR(cache: cache, key: key, name: "features", rows: labels.file.rows, cols: labels.file.cols)
    }

    static func labels(_ cache: TaskCache, key: String) throws -> Labels {
        let file = try JSONDecoder().decode(LoadedLabels.self, from: cache.read(key, file: "loaded.json"))
        let codes = try LabelCodes(cache.mapped(key, file: "labels.npy"), name: "labels.npy of entry \(key)")
        guard codes.rows == file.rows else {
            throw PipelineError.cache("entry \(key): labels.npy has \(codes.rows) cells, loaded.json \(file.rows)")
        }
        return Labels(file: file, codes: codes)
    }

    static func loaded(_ cache: TaskCache, key: String) throws -> LoadedData {
        let labels = try labels(cache, key: key)
        let source = try features(cache, key: key, labels: labels)
        let features = try source.rows(at: Array(0..<source.rowCount))
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
