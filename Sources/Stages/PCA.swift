import LinearAlgebra

/// A fitted principal-component projection: scores = (x − mean)·Vᵀ, with the rows of V the
/// leading eigenvectors of the covariance matrix.
///
/// Fitted in Double through the d×d covariance and LAPACK `dsyevd` (fine for the feature
/// counts of 4i data and of highly variable gene sets). Each component's sign makes its
/// largest-magnitude loading positive, scikit-learn's convention (`svd_flip` on V), so the
/// same data always gives the same axes.
public struct PCAModel: Sendable, Codable, Equatable {
    /// Feature means (length d).
    public let mean: [Double]
    /// k × d, orthonormal rows, by decreasing variance.
    public let components: Matrix<Double>
    /// Variance along each component (eigenvalues of the covariance, denominator n − 1).
    public let explainedVariance: [Double]
    /// explainedVariance / total variance.
    public let explainedVarianceRatio: [Double]

    public var componentCount: Int { components.rows }
    public var featureCount: Int { components.cols }

    /// Fits `count` components to the rows of `data`.
    /// - Throws: `StageError.invalidInput` when there are fewer than 2 rows or `count` is not in
    ///   1 … d; LAPACK failures pass through.
    public static func fit(_ data: Matrix<Float>, components count: Int) throws -> PCAModel {
        let n = data.rows, d = data.cols
        guard n >= 2 else { throw StageError.invalidInput("PCA needs at least 2 cells, got \(n)") }
        guard count >= 1, count <= d else {
            throw StageError.invalidInput("PCA: \(count) components requested but the features have \(d) dimensions")
        }
        guard count <= n - 1 else {
            throw StageError.invalidInput("PCA: \(count) components requested but only \(n) cells to fit them on (at most \(n - 1) carry variance)")
        }
        let (centered, mean) = data.converted(to: Double.self).centeredColumns()
        // On one BLAS thread (the command already runs so; this keeps library callers the same): a
        // threaded gemm splits these long sums by thread count, which moved the components in their
        // last digits between 1 and 2 threads, and every task downstream with them.
        let covariance = BLASThreads.withSingleThread {
            centered.multiplied(by: centered, transposeSelf: true, scale: 1 / Double(n - 1))
        }
        return try fromCovariance(covariance, mean: mean, components: count)
    }

    /// Rows per block of the streaming fit and transform: a screen's cells are never converted to
    /// Double all at once (650,000 × 2,000 would be 10 GB), only a block at a time (≈ 1 GB at
    /// 2,000 features). Data of at most this many rows is one block, and takes exactly the
    /// computation of `fit(_:components:)`.
    public static let blockRows = 65_536

    /// Fits `count` components to the rows `indices` of `source`, a block of rows at a time: the
    /// column means in a first pass, then the covariance as the sum over blocks of
    /// (Xᵦ − mean)ᵀ(Xᵦ − mean), all in Double. Exact (not randomised): the same covariance as the
    /// in-memory fit up to the order of its sums.
    public static func fit(_ source: some RowBlocks, rows indices: [Int], components count: Int) throws -> PCAModel {
        let n = indices.count, d = source.columnCount
        guard n > blockRows else { return try fit(source.rows(at: indices), components: count) }
        guard count >= 1, count <= d else {
            throw StageError.invalidInput("PCA: \(count) components requested but the features have \(d) dimensions")
        }
        var sums = [Double](repeating: 0, count: d)
        for start in stride(from: 0, to: n, by: blockRows) {
            let block = try source.rows(at: Array(indices[start..<Swift.min(n, start + blockRows)]))
            block.withUnsafeBufferPointer { values in
                sums.withUnsafeMutableBufferPointer { sums in
                    for i in 0..<block.rows {
                        for j in 0..<d { sums[j] += Double(values[i * d + j]) }
                    }
                }
            }
        }
        let mean = sums.map { $0 / Double(n) }
        var covariance = Matrix<Double>(rows: d, cols: d, repeating: 0)
        try BLASThreads.withSingleThread {
            for start in stride(from: 0, to: n, by: blockRows) {
                let block = try source.rows(at: Array(indices[start..<Swift.min(n, start + blockRows)]))
                    .converted(to: Double.self).subtractingFromRows(mean)
                covariance.addProduct(block, block, transposeA: true, scale: 1 / Double(n - 1))
            }
        }
        return try fromCovariance(covariance, mean: mean, components: count)
    }

    /// The leading `count` eigenvectors of a d × d covariance, signs fixed.
    private static func fromCovariance(_ covariance: Matrix<Double>, mean: [Double], components count: Int) throws -> PCAModel {
        let d = covariance.rows
        let eigen = try BLASThreads.withSingleThread { try covariance.symmetricEigen() }  // ascending
        let total = eigen.values.reduce(0) { $0 + Swift.max(0, $1) }
        var rows: [[Double]] = []
        var variances: [Double] = []
        for index in stride(from: d - 1, through: d - count, by: -1) {
            var axis = (0..<d).map { eigen.vectors[$0, index] }
            let largest = axis.indices.max { abs(axis[$0]) < abs(axis[$1]) } ?? 0
            if axis[largest] < 0 { axis = axis.map { -$0 } }
            rows.append(axis)
            variances.append(Swift.max(0, eigen.values[index]))
        }
        return PCAModel(mean: mean, components: try Matrix(rows), explainedVariance: variances,
                        explainedVarianceRatio: variances.map { total > 0 ? $0 / total : 0 })
    }

    /// Principal-component scores of each row of `data` (n × k).
    public func transform(_ data: Matrix<Float>) throws -> Matrix<Float> {
        guard data.cols == featureCount else {
            throw StageError.invalidInput("PCA: data has \(data.cols) features, the model \(featureCount)")
        }
        let centered = data.converted(to: Double.self).subtractingFromRows(mean)
        return centered.multiplied(by: components, transposeOther: true).converted(to: Float.self)
    }

    /// The scores of every row of `source`, a block of `blockRows` rows at a time.
    public func transform(_ source: some RowBlocks) throws -> Matrix<Float> {
        let n = source.rowCount
        guard n > Self.blockRows else { return try transform(source.rows(at: Array(0..<n))) }
        var storage: [Float] = []
        storage.reserveCapacity(n * componentCount)
        for start in stride(from: 0, to: n, by: Self.blockRows) {
            storage += try transform(source.rows(at: Array(start..<Swift.min(n, start + Self.blockRows)))).storage
        }
        return try Matrix(rows: n, cols: componentCount, storage: storage)
    }

    /// Back to feature space: mean + scores·V (n × d).
    public func inverseTransform(_ scores: Matrix<Float>) throws -> Matrix<Float> {
        guard scores.cols == componentCount else {
            throw StageError.invalidInput("PCA: scores have \(scores.cols) columns, the model \(componentCount) components")
        }
        let back = scores.converted(to: Double.self).multiplied(by: components)
        return Matrix(rows: back.rows, cols: back.cols) { i, j in Float(back[i, j] + mean[j]) }
    }
}

/// Rows of a matrix that may not be in memory (a memory-mapped cache file), read as needed.
public protocol RowBlocks: Sendable {
    var rowCount: Int { get }
    var columnCount: Int { get }
    /// The rows at `indices`, in that order.
    func rows(at indices: [Int]) throws -> Matrix<Float>
}

extension Matrix: RowBlocks where Scalar == Float {
    public var rowCount: Int { rows }
    public var columnCount: Int { cols }
}

/// What the `pca` stage hands on: the model and the scores of every loaded cell.
public struct PCAOutput: Sendable, Codable {
    public let model: PCAModel
    public let scores: Matrix<Float>
    /// The loaded features' names, to name the features a map moves most.
    public let featureNames: [String]

    public init(model: PCAModel, scores: Matrix<Float>, featureNames: [String]) {
        self.model = model
        self.scores = scores
        self.featureNames = featureNames
    }

    /// Fits `components` components on the cells whose condition is one of `labels` (the
    /// control and the run's drugs), of the `contexts` when given (one PCA for every context of
    /// a screen: the maps of all contexts live in one space), and scores every loaded cell.
    public static func fit(_ loaded: LoadedData, components: Int, labels: Set<String>, contexts: Set<String>? = nil) throws -> PCAOutput {
        try fit(features: loaded.features, conditions: loaded.conditions, contexts: loaded.contexts, featureNames: loaded.featureNames,
                components: components, labels: labels, fittedContexts: contexts)
    }

    /// The same, on features read a block of rows at a time (`PCAModel.fit(_:rows:components:)`).
    public static func fit(features: some RowBlocks, conditions: [String?], contexts: [String?]?, featureNames: [String],
                           components: Int, labels: Set<String>, fittedContexts: Set<String>? = nil) throws -> PCAOutput {
        let rows = conditions.indices.filter { cell in
            guard conditions[cell].map(labels.contains) ?? false else { return false }
            guard let fittedContexts else { return true }
            return contexts?[cell].map(fittedContexts.contains) ?? false
        }
        let model = try PCAModel.fit(features, rows: rows, components: components)
        return PCAOutput(model: model, scores: try model.transform(features), featureNames: featureNames)
    }
}

extension PCAOutput {
    /// The pca task's parameters: the value its cache key hashes and the value it runs with.
    public struct Parameters: Sendable, Equatable, Codable {
        public let components: Int
        /// Fitted on the control cells and these drugs' cells (conditions, with contexts).
        public let control: String
        public let drugs: [String]
        /// The contexts whose cells it is fitted on (absent from the JSON without contexts).
        public var contexts: [String]? = nil

        public init(components: Int, control: String, drugs: [String]) {
            self.components = components
            self.control = control
            self.drugs = drugs
        }
    }
}
