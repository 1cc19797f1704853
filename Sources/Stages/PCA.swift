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
        let eigen = try BLASThreads.withSingleThread {
            try centered.multiplied(by: centered, transposeSelf: true, scale: 1 / Double(n - 1)).symmetricEigen()  // ascending
        }
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

    /// Back to feature space: mean + scores·V (n × d).
    public func inverseTransform(_ scores: Matrix<Float>) throws -> Matrix<Float> {
        guard scores.cols == componentCount else {
            throw StageError.invalidInput("PCA: scores have \(scores.cols) columns, the model \(componentCount) components")
        }
        let back = scores.converted(to: Double.self).multiplied(by: components)
        return Matrix(rows: back.rows, cols: back.cols) { i, j in Float(back[i, j] + mean[j]) }
    }
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
        let rows = loaded.conditions.indices.filter { cell in
            guard loaded.conditions[cell].map(labels.contains) ?? false else { return false }
            guard let contexts else { return true }
            return loaded.contexts?[cell].map(contexts.contains) ?? false
        }
        let model = try PCAModel.fit(loaded.features.rows(at: rows), components: components)
        return PCAOutput(model: model, scores: try model.transform(loaded.features), featureNames: loaded.featureNames)
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
