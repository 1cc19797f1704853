import LinearAlgebra

/// The points the solve and evaluate stages work on: PCA scores, or the features themselves
/// (`pca: none`).
public struct FeatureSpace: Sendable {
    public let points: Matrix<Float>
    /// Rows: the directions of the coordinates in feature space; nil without PCA, where the
    /// coordinates are the features.
    public let components: Matrix<Double>?
    public let featureNames: [String]
    /// Each cell's true image T₀(x) (`data.true_map`), only without PCA.
    public let trueMap: Matrix<Float>?

    public init(points: Matrix<Float>, components: Matrix<Double>?, featureNames: [String], trueMap: Matrix<Float>?) {
        self.points = points
        self.components = components
        self.featureNames = featureNames
        self.trueMap = trueMap
    }

    /// The scores of a PCA stage's output.
    public init(_ pca: PCAOutput) {
        self.init(points: pca.scores, components: pca.model.components, featureNames: pca.featureNames, trueMap: nil)
    }

    /// The loaded features as they are.
    public init(_ loaded: LoadedData) {
        self.init(points: loaded.features, components: nil, featureNames: loaded.featureNames, trueMap: loaded.trueMap)
    }
}
