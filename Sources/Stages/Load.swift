import AnnData
import Foundation
import LinearAlgebra

/// What the `load` stage hands on: one row of features per cell, and each cell's condition.
public struct LoadedData: Sendable, Codable, Equatable {
    /// n × d (X made dense, or one obsm entry), after the transform.
    public let features: Matrix<Float>
    /// The condition of each cell (nil where the obs value is missing).
    public let conditions: [String?]
    public let featureNames: [String]
    /// n × d: each cell's true image T₀(x) in feature space (`data.true_map`, a synthetic
    /// benchmark's ground truth); nil when not asked for. Omitted from the JSON when nil, so
    /// load outputs without it read and write as before.
    public let trueMap: Matrix<Float>?
    /// Each cell's value of the obs column of an out-of-distribution split (`split.holdout.key`);
    /// nil when not asked for (and absent from the JSON).
    public var holdoutGroups: [String?]? = nil
    /// Each cell's context (`data.context_key`, e.g. its cell line); nil without a context.
    public var contexts: [String?]? = nil

    public init(features: Matrix<Float>, conditions: [String?], featureNames: [String], trueMap: Matrix<Float>?,
                holdoutGroups: [String?]? = nil) {
        self.features = features
        self.conditions = conditions
        self.featureNames = featureNames
        self.trueMap = trueMap
        self.holdoutGroups = holdoutGroups
    }

    /// Rows whose condition is `label`.
    public func cells(labelled label: String) -> [Int] {
        conditions.indices.filter { conditions[$0] == label }
    }
}

/// The `load` stage: reads an .h5ad file's features and condition column.
public enum Load {
    /// How counts are transformed before PCA, as scanpy: `log1p` is log(1 + x); `normalizeLog1p`
    /// first scales each cell to `targetSum` total counts (`sc.pp.normalize_total`).
    public enum Transform: Sendable, Equatable {
        case none, log1p
        case normalizeLog1p(targetSum: Double)
    }

    /// Reads the features and labels, with X made dense (the in-memory form the commands and the
    /// stages' tests use); the pipeline's load task keeps CSR counts sparse (`read(path:_:)`).
    ///
    /// - Parameters:
    ///   - varNames: with `features == "X"`, the columns to keep, in this order (all when nil).
    ///   - trueMap: an obsm entry holding each cell's true image T₀(x), of the features' shape.
    ///   - conditionKeys: several condition columns (`condition_key: [drug, dose]`), labelled as
    ///     `ConditionTable` says; nil: `conditionKey` alone.
    ///   - contextKey: the context column (`data.context_key`), recorded per cell.
    ///   - control: the control value of the first condition column (needed with several columns).
    /// - Throws: `StageError.invalidInput` naming the file and the element: a missing obsm entry,
    ///   a true map of the wrong shape, NaN or infinity, …
    public static func run(path: String, conditionKey: String, features: String, transform: Transform,
                           varNames: [String]? = nil, trueMap trueMapKey: String? = nil,
                           holdoutKey: String? = nil, conditionKeys: [String]? = nil, contextKey: String? = nil,
                           control: String? = nil) throws -> LoadedData {
        try read(path: path, conditionKey: conditionKey, features: features, transform: transform, varNames: varNames,
                 trueMap: trueMapKey, holdoutKey: holdoutKey, conditionKeys: conditionKeys, contextKey: contextKey,
                 control: control, keepSparse: false).densified()
    }

    /// The load task: as `run`, but counts stored as CSR (or CSC) stay compressed sparse rows
    /// through the transform (log1p and total-count scaling keep zeros zero) while that is the
    /// smaller form (`LoadedFeatures.preferred`).
    public static func read(path: String, _ parameters: Parameters) throws -> Output {
        try read(path: path, conditionKey: parameters.conditionKey, features: parameters.features,
                 transform: parameters.loadTransform, varNames: parameters.varNames.isEmpty ? nil : parameters.varNames,
                 trueMap: parameters.trueMap, holdoutKey: parameters.holdoutKey, conditionKeys: parameters.conditionKeys,
                 contextKey: parameters.contextKey, control: parameters.control, keepSparse: true)
    }

    /// What the load task hands on: `LoadedData` with its features dense or CSR.
    public struct Output: Sendable {
        public var features: LoadedFeatures
        public var conditions: [String?]
        public var featureNames: [String]
        public var trueMap: Matrix<Float>?
        public var holdoutGroups: [String?]?
        public var contexts: [String?]?

        /// The same with the features dense.
        public func densified() -> LoadedData {
            var loaded = LoadedData(features: features.densified(), conditions: conditions, featureNames: featureNames,
                                    trueMap: trueMap, holdoutGroups: holdoutGroups)
            loaded.contexts = contexts
            return loaded
        }
    }

    private static func read(path: String, conditionKey: String, features: String, transform: Transform,
                             varNames: [String]?, trueMap trueMapKey: String?, holdoutKey: String?,
                             conditionKeys: [String]?, contextKey: String?, control: String?,
                             keepSparse: Bool) throws -> Output {
        var data = try AnnDataReader.read(path, as: Float.self, sparse: keepSparse ? .keep : .densify, requireX: features == "X")
        var loadedFeatures: LoadedFeatures
        let names: [String]
        if features == "X" {
            guard let x = data.X else { throw StageError.invalidInput("\(path): X is missing") }
            var columns: [Int]?
            if let varNames {
                let position = Dictionary(data.var.index.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
                let missing = varNames.filter { position[$0] == nil }
                guard missing.isEmpty else {
                    throw StageError.invalidInput("\(path): var names not in the data: \(missing.prefix(10).joined(separator: ", "))\(missing.count > 10 ? " (\(missing.count) in all)" : "")")
                }
                columns = varNames.compactMap { position[$0] }
                names = varNames
            } else {
                names = data.var.index
            }
            switch x {
            case .dense(let dense):
                let matrix = columns.map { columns in Matrix(rows: dense.rows, cols: columns.count) { i, j in dense[i, columns[j]] } } ?? dense
                loadedFeatures = .dense(matrix)
            case .sparse(let sparse):
                var csr = sparse.format == .csr ? sparse : sparse.csr()
                if let columns { csr = try selecting(columns, of: csr, path: path) }
                loadedFeatures = keepSparse ? .csr(csr) : .dense(csr.densified())
            }
            // The file's copy goes, so the transform below works in place: a screen's features
            // are held once, not two or three times.
            data.X = nil
        } else {
            guard let entry = data.obsm[features] else {
                throw StageError.invalidInput("\(path): no obsm entry '\(features)' (obsm has: \(data.obsm.keys.sorted().joined(separator: ", ")))")
            }
            loadedFeatures = .dense(entry)
            names = (0..<entry.cols).map { "\(features)_\($0 + 1)" }
        }
        func labels(_ key: String) throws -> [String?] {
            guard let labels = try data.obsLabels(key) else {
                throw StageError.invalidInput("\(path): obs column '\(key)' is not categorical or text")
            }
            return labels
        }
        var conditions: [String?]
        var contexts: [String?]?
        if (conditionKeys?.count ?? 1) > 1 || contextKey != nil {
            let keys = conditionKeys ?? [conditionKey]
            do {
                let table = try ConditionTable.read(data, conditionKeys: keys, contextKey: contextKey, control: control ?? "")
                conditions = table.conditions
                contexts = table.contexts
            } catch let error as StageError {
                throw StageError.invalidInput("\(path): \(error)")
            }
        } else {
            conditions = try labels(conditionKey)
        }
        guard loadedFeatures.allFinite else { throw StageError.invalidInput("\(path): the features contain NaN or infinity") }
        let (rows, cols) = (loadedFeatures.rowCount, loadedFeatures.columnCount)
        var trueMap: Matrix<Float>?
        if let trueMapKey {
            guard let entry = data.obsm[trueMapKey] else {
                throw StageError.invalidInput("\(path): no obsm entry '\(trueMapKey)' for data.true_map (obsm has: \(data.obsm.keys.sorted().joined(separator: ", ")))")
            }
            guard entry.rows == rows, entry.cols == cols else {
                throw StageError.invalidInput("\(path): obsm '\(trueMapKey)' (data.true_map) is \(entry.rows) × \(entry.cols), expected \(rows) × \(cols) like the features '\(features)'")
            }
            guard entry.allFinite else { throw StageError.invalidInput("\(path): obsm '\(trueMapKey)' (data.true_map) contains NaN or infinity") }
            trueMap = entry
        }
        switch loadedFeatures {
        case .dense(var matrix):
            loadedFeatures = .dense(Matrix(rows: 0, cols: 0))  // drop the enum's reference so the transform is in place
            try apply(transform, to: &matrix, path: path)
            loadedFeatures = .dense(matrix)
        case .csr(let sparse):
            loadedFeatures = LoadedFeatures.preferred(try apply(transform, to: sparse, path: path))
        }
        let ranges = FeatureScale.ranges(loadedFeatures)
        if let problem = FeatureScale.problem(minimum: ranges.minimum, maximum: ranges.maximum, names: names) {
            throw StageError.invalidInput("\(path): \(features == "X" ? "X" : "obsm '\(features)'"): \(problem)")
        }
        return Output(features: loadedFeatures, conditions: conditions, featureNames: names, trueMap: trueMap,
                      holdoutGroups: try holdoutKey.map(labels), contexts: contexts)
    }

    /// The columns `columns` of a CSR matrix, in that order (a column may be picked twice).
    private static func selecting(_ columns: [Int], of sparse: SparseMatrix<Float>, path: String) throws -> SparseMatrix<Float> {
        var targets = [[Int32]](repeating: [], count: sparse.cols)
        for (position, column) in columns.enumerated() { targets[column].append(Int32(position)) }
        var data: [Float] = [], indices: [Int32] = [], indptr = [0]
        indptr.reserveCapacity(sparse.rows + 1)
        for row in 0..<sparse.rows {
            for p in sparse.indptr[row]..<sparse.indptr[row + 1] {
                for target in targets[Int(sparse.indices[p])] {
                    data.append(sparse.data[p])
                    indices.append(target)
                }
            }
            indptr.append(data.count)
        }
        return try sparseMatrix(rows: sparse.rows, cols: columns.count, data: data, indices: indices, indptr: indptr, path: path)
    }

    private static func sparseMatrix(rows: Int, cols: Int, data: [Float], indices: [Int32], indptr: [Int], path: String) throws
        -> SparseMatrix<Float> {
        do {
            return try SparseMatrix(format: .csr, rows: rows, cols: cols, data: data, indices: indices, indptr: indptr)
        } catch {
            throw StageError.invalidInput("\(path): X: \(error)")
        }
    }

    /// `transform` of the stored entries (zeros stay zeros): log1p of each, after scaling a
    /// cell's entries to `targetSum` total counts for `normalizeLog1p` — the values the dense
    /// transform gives.
    static func apply(_ transform: Transform, to sparse: SparseMatrix<Float>, path: String) throws -> SparseMatrix<Float> {
        if case .none = transform { return sparse }
        guard !sparse.data.contains(where: { $0 < 0 }) else {
            throw StageError.invalidInput("\(path): log1p needs non-negative counts, the features have negative values")
        }
        var values = sparse.data
        values.withUnsafeMutableBufferPointer { values in
            for row in 0..<sparse.rows {
                let entries = sparse.indptr[row]..<sparse.indptr[row + 1]
                var scale: Float = 1
                if case .normalizeLog1p(let targetSum) = transform {
                    let total = entries.reduce(0.0) { $0 + Double(values[$1]) }
                    scale = total > 0 ? Float(targetSum / total) : 1
                }
                for p in entries { values[p] = Foundation.log1p(values[p] * scale) }
            }
        }
        return try sparseMatrix(rows: sparse.rows, cols: sparse.cols, data: values, indices: sparse.indices, indptr: sparse.indptr, path: path)
    }

    /// Applies `transform` to the matrix in place.
    static func apply(_ transform: Transform, to matrix: inout Matrix<Float>, path: String) throws {
        switch transform {
        case .none:
            return
        case .log1p, .normalizeLog1p:
            guard !matrix.storage.contains(where: { $0 < 0 }) else {
                throw StageError.invalidInput("\(path): log1p needs non-negative counts, the features have negative values")
            }
            var scales = [Float](repeating: 1, count: matrix.rows)
            if case .normalizeLog1p(let targetSum) = transform {
                for i in 0..<matrix.rows {
                    let total = matrix.row(i).reduce(0.0) { $0 + Double($1) }
                    scales[i] = total > 0 ? Float(targetSum / total) : 1
                }
            }
            let cols = matrix.cols
            matrix.withUnsafeMutableBufferPointer { values in
                for i in 0..<scales.count {
                    let scale = scales[i]
                    for j in 0..<cols { values[i * cols + j] = Foundation.log1p(values[i * cols + j] * scale) }
                }
            }
        }
    }
}

extension Load {
    /// The load task's parameters: the value its cache key hashes and the value it runs with.
    /// The data file enters by its content (`sha256`), not its path.
    public struct Parameters: Sendable, Equatable, Codable {
        public let sha256: String
        public let conditionKey: String
        /// `X` or an obsm key.
        public let features: String
        /// none, log1p or normalize_log1p.
        public let transform: String
        public let targetSum: Double
        /// The columns of X to keep (empty: all).
        public let varNames: [String]
        /// The obsm entry of the true images, when asked for (absent from the JSON otherwise).
        public let trueMap: String?
        /// The obs column of an out-of-distribution split (absent from the JSON otherwise).
        public let holdoutKey: String?
        /// Several condition columns (absent from the JSON with one, so older keys stay).
        public var conditionKeys: [String]? = nil
        /// The context column (absent from the JSON without).
        public var contextKey: String? = nil
        /// The control value, for labelling the cells of several condition columns (absent otherwise).
        public var control: String? = nil

        public init(sha256: String, conditionKey: String, features: String, transform: String, targetSum: Double,
                    varNames: [String], trueMap: String?, holdoutKey: String? = nil) {
            self.holdoutKey = holdoutKey
            self.sha256 = sha256
            self.conditionKey = conditionKey
            self.features = features
            self.transform = transform
            self.targetSum = targetSum
            self.varNames = varNames
            self.trueMap = trueMap
        }

        private enum CodingKeys: String, CodingKey {
            case sha256, features, transform
            case conditionKey = "condition_key", targetSum = "target_sum", varNames = "var_names", trueMap = "true_map"
            case holdoutKey = "holdout_key", conditionKeys = "condition_keys", contextKey = "context_key", control
        }

        /// The transform to apply.
        public var loadTransform: Transform {
            switch transform {
            case "log1p": return .log1p
            case "normalize_log1p": return .normalizeLog1p(targetSum: targetSum)
            default: return .none
            }
        }
    }
}
