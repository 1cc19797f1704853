import Foundation
import LinearAlgebra
import Transport

/// The evaluation metrics between predicted and observed treated cells.
public enum Metrics {
    /// CellOT's bandwidths: the RBF-kernel MMD is averaged over k(x, y) = exp(−γ‖x − y‖²) for
    /// these γ (CellOT `compute_scalar_mmd`).
    public static let mmdGammas: [Double] = [2, 1, 0.5, 0.1, 0.01, 0.005]

    /// The biased (V-statistic) MMD² averaged over `gammas`:
    /// mean_γ [mean K_γ(x, x) + mean K_γ(y, y) − 2 mean K_γ(x, y)], in Double.
    public static func mmd(_ x: Matrix<Float>, _ y: Matrix<Float>, gammas: [Double] = mmdGammas) -> Double {
        let xx = squaredDistances(x, x), yy = squaredDistances(y, y), xy = squaredDistances(x, y)
        let total = gammas.reduce(0.0) { sum, gamma in
            sum + kernelMean(xx, gamma) + kernelMean(yy, gamma) - 2 * kernelMean(xy, gamma)
        }
        return total / Double(gammas.count)
    }

    /// ‖mean(x) − mean(y)‖₂.
    public static func meanDistance(_ x: Matrix<Float>, _ y: Matrix<Float>) -> Double {
        let a = x.converted(to: Double.self).columnMeans(), b = y.converted(to: Double.self).columnMeans()
        return zip(a, b).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    }

    /// The evaluation ε of one (drug, d_PCA, seed): OTT's default ε (0.05 × std of the cost
    /// matrix) of the test-treated cloud with itself, so every method's prediction is scored
    /// at the same ε.
    public static func evaluationEpsilon(testTreated: Matrix<Float>) throws -> Double {
        guard testTreated.rows >= 2 else {
            throw StageError.invalidInput("the evaluation ε needs at least 2 test-treated cells, got \(testTreated.rows)")
        }
        return try Sinkhorn.solve(source: testTreated, target: testTreated,
                           options: SinkhornOptions(epsilon: .auto, maxIterations: 1)).epsilon
    }

    /// Sinkhorn divergence S_ε(predicted, observed) at a fixed ε, in Double.
    public static func sinkhornDivergence(
        _ predicted: Matrix<Float>, _ observed: Matrix<Float>, epsilon: Double
    ) throws -> SinkhornDivergence {
        try SinkhornDivergence.compute(
            source: predicted.converted(to: Double.self), target: observed.converted(to: Double.self),
            options: SinkhornOptions(epsilon: .fixed(epsilon), threshold: 1e-4, maxIterations: 5000))
    }

    /// When a feature of a cell counts as moved by a map.
    public enum MovedRule: Sendable, Equatable {
        /// |Δ_j| > tolerance × the standard deviation of feature j over the control cells.
        case relative(Double)
        /// |Δ_j| > threshold, in the feature's own units: the displacement-sparse ICNN paper's
        /// count (Chen, Xie & Zhang, §5.1, |Δ| > 1; their `hd.py`).
        case absolute(Double)

        /// perturbot's default: a tenth of the feature's spread.
        public static let `default` = MovedRule.relative(0.1)
    }

    /// Mean over cells of how many features the map moves noticeably: the displacement
    /// T(x) − x is taken back to feature space through the PCA components (scores·V; nil when
    /// the points are features already, `pca: none`), and
    /// feature j counts as moved by `rule`. With the default (0.1 × the standard deviation of
    /// feature j over the control cells' PCA reconstruction) the identity moves 0 features and a
    /// translation moves every feature it shifts by a tenth of its spread.
    public static func displacementDimensionality(
        control: Matrix<Float>, predicted: Matrix<Float>, components: Matrix<Double>?, rule: MovedRule = .default
    ) -> Double {
        mean(of: movedCounts(control: control, predicted: predicted, components: components, rule: rule))
    }

    /// The mean of per-cell counts (0 for no cells).
    public static func mean(of counts: [Int]) -> Double {
        counts.isEmpty ? 0 : Double(counts.reduce(0, +)) / Double(counts.count)
    }

    /// How many features the map moves in each cell (`rule` as for `displacementDimensionality`).
    public static func movedCounts(
        control: Matrix<Float>, predicted: Matrix<Float>, components: Matrix<Double>?, rule: MovedRule = .default
    ) -> [Int] {
        guard control.rows > 0 else { return [] }
        return movedCounts(FeatureDisplacement(control: control, predicted: predicted, components: components), rule: rule)
    }

    /// T(x) − x taken back to feature space, and each feature's spread over the control cells: what
    /// `movedCounts` and `mostMovedFeatures` read, computed once when a caller wants both.
    public struct FeatureDisplacement: Sendable {
        let values: Matrix<Double>
        let spreads: [Double]

        public init(control: Matrix<Float>, predicted: Matrix<Float>, components: Matrix<Double>?) {
            (values, spreads) = Metrics.featureDisplacement(control: control, predicted: predicted, components: components)
        }
    }

    /// `movedCounts` of a displacement already taken back to feature space.
    public static func movedCounts(_ moved: FeatureDisplacement, rule: MovedRule = .default) -> [Int] {
        let displacement = moved.values
        guard displacement.rows > 0 else { return [] }
        let limits = movedLimits(rule, spreads: moved.spreads)
        return (0..<displacement.rows).map { i in
            (0..<displacement.cols).reduce(0) { $0 + (abs(displacement[i, $1]) > limits[$1] ? 1 : 0) }
        }
    }

    /// The `fraction` quantile of `values` with NumPy's default (linear) interpolation between
    /// order statistics; nil for no values.
    public static func quantile(_ values: [Double], _ fraction: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let position = fraction * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down)), upper = Swift.min(sorted.count - 1, lower + 1)
        return sorted[lower] + (position - Double(lower)) * (sorted[upper] - sorted[lower])
    }

    /// Which moved features are the truly moved ones, pooled over cells: with M̂_i the features
    /// the map moves in cell i and M_i those its true image moves (both by `rule`, in feature
    /// space), precision Σ|M̂_i ∩ M_i| / Σ|M̂_i| and recall Σ|M̂_i ∩ M_i| / Σ|M_i|. A map that
    /// moves nothing has precision nil; a truth that moves nothing, recall nil.
    public static func movedFeatureRecovery(
        control: Matrix<Float>, predicted: Matrix<Float>, truth: Matrix<Float>, rule: MovedRule = .default
    ) throws -> (precision: Double?, recall: Double?) {
        guard predicted.rows == control.rows, predicted.cols == control.cols,
              truth.rows == control.rows, truth.cols == control.cols else {
            throw StageError.invalidInput("moved features: the control cells are \(control.rows) × \(control.cols), "
                + "the prediction \(predicted.rows) × \(predicted.cols), the true images \(truth.rows) × \(truth.cols)")
        }
        let (estimated, spreads) = featureDisplacement(control: control, predicted: predicted, components: nil)
        let (actual, _) = featureDisplacement(control: control, predicted: truth, components: nil)
        let limits = movedLimits(rule, spreads: spreads)
        var both = 0, movedByMap = 0, movedTruly = 0
        for i in 0..<control.rows {
            for j in 0..<control.cols {
                let mapMoves = abs(estimated[i, j]) > limits[j], trulyMoves = abs(actual[i, j]) > limits[j]
                if mapMoves { movedByMap += 1 }
                if trulyMoves { movedTruly += 1 }
                if mapMoves && trulyMoves { both += 1 }
            }
        }
        return (movedByMap > 0 ? Double(both) / Double(movedByMap) : nil,
                movedTruly > 0 ? Double(both) / Double(movedTruly) : nil)
    }

    private static func movedLimits(_ rule: MovedRule, spreads: [Double]) -> [Double] {
        switch rule {
        case .relative(let tolerance): return spreads.map { tolerance * $0 }
        case .absolute(let threshold): return Array(repeating: threshold, count: spreads.count)
        }
    }

    /// The `count` features with the largest mean |Δ_j| / std_j over the cells (the same
    /// displacement and spread as `displacementDimensionality`), largest first, with that value.
    public static func mostMovedFeatures(
        control: Matrix<Float>, predicted: Matrix<Float>, components: Matrix<Double>?, names: [String], count: Int
    ) -> [MovedFeature] {
        guard control.rows > 0 else { return [] }
        return mostMovedFeatures(FeatureDisplacement(control: control, predicted: predicted, components: components), names: names, count: count)
    }

    /// `mostMovedFeatures` of a displacement already taken back to feature space.
    public static func mostMovedFeatures(_ moved: FeatureDisplacement, names: [String], count: Int) -> [MovedFeature] {
        let displacement = moved.values, spreads = moved.spreads
        guard displacement.rows > 0 else { return [] }
        let relative = (0..<displacement.cols).map { j in
            (0..<displacement.rows).reduce(0.0) { $0 + abs(displacement[$1, j]) } / Double(displacement.rows) / Swift.max(spreads[j], 1e-12)
        }
        return relative.indices.sorted { relative[$0] > relative[$1] }.prefix(count).map { j in
            MovedFeature(name: j < names.count ? names[j] : "feature \(j)", relativeShift: relative[j])
        }
    }

    /// T(x) − x in feature space (cells × features) and each feature's standard deviation over
    /// the control cells' PCA reconstruction. nil or identity components (`pca: none`): the
    /// points are already in feature space, and nothing is multiplied.
    static func featureDisplacement(
        control: Matrix<Float>, predicted: Matrix<Float>, components: Matrix<Double>?
    ) -> (Matrix<Double>, [Double]) {
        precondition(control.rows == predicted.rows && control.cols == (components?.rows ?? control.cols))
        let projection = components.flatMap { isIdentity($0) ? nil : $0 }
        let scores = control.converted(to: Double.self)
        let difference = predicted.converted(to: Double.self) - scores
        let displacement = projection.map { difference.multiplied(by: $0) } ?? difference
        let reconstructed = projection.map { scores.multiplied(by: $0) } ?? scores
        let means = reconstructed.columnMeans()
        var spreads = [Double](repeating: 0, count: reconstructed.cols)
        for i in 0..<reconstructed.rows {
            for j in 0..<reconstructed.cols { spreads[j] += pow(reconstructed[i, j] - means[j], 2) }
        }
        return (displacement, spreads.map { ($0 / Double(reconstructed.rows)).squareRoot() })
    }

    /// Whether `matrix` is a square identity, read until the first entry that says no (no
    /// identity matrix is built to compare with: at 3,000 genes that would be 72 MB a call).
    private static func isIdentity(_ matrix: Matrix<Double>) -> Bool {
        guard matrix.rows == matrix.cols else { return false }
        for i in 0..<matrix.rows {
            for j in 0..<matrix.cols where matrix[i, j] != (i == j ? 1 : 0) { return false }
        }
        return true
    }

    private static func squaredDistances(_ a: Matrix<Float>, _ b: Matrix<Float>) -> Matrix<Double> {
        squaredEuclideanCostMatrix(a.converted(to: Double.self), b.converted(to: Double.self))
    }

    private static func kernelMean(_ distances: Matrix<Double>, _ gamma: Double) -> Double {
        guard !distances.storage.isEmpty else { return 0 }
        return distances.storage.reduce(0.0) { $0 + Foundation.exp(-gamma * $1) } / Double(distances.storage.count)
    }
}

/// A feature and its mean displacement in units of its spread over the control cells.
public struct MovedFeature: Codable, Sendable, Equatable {
    public let name: String
    public let relativeShift: Double
}

extension Metrics {
    /// The map error of the ProgOT paper's GMM benchmark (Kassraie et al. 2024, Table 5):
    /// (1/n) Σ_i ‖T̂(x_i) − T₀(x_i)‖² over the test control cells x_i, with the squared norm summed
    /// over coordinates, unnormalised, in feature space; in Double.
    /// - Throws: `StageError.invalidInput` when the shapes differ or there are no cells.
    public static func mapMSE(predicted: Matrix<Float>, truth: Matrix<Float>) throws -> Double {
        guard predicted.rows == truth.rows, predicted.cols == truth.cols else {
            throw StageError.invalidInput("map_mse: the prediction is \(predicted.rows) × \(predicted.cols), the true images \(truth.rows) × \(truth.cols)")
        }
        guard predicted.rows > 0 else { throw StageError.invalidInput("map_mse: no test control cells") }
        var total = 0.0
        for (a, b) in zip(predicted.storage, truth.storage) {
            let difference = Double(a) - Double(b)
            total += difference * difference
        }
        return total / Double(predicted.rows)
    }

    /// Total variance of a cloud: the trace of its sample covariance (denominator n − 1), i.e.
    /// the sum over coordinates of each coordinate's variance; in Double.
    public static func totalVariance(_ points: Matrix<Float>) -> Double {
        guard points.rows >= 2 else { return 0 }
        let means = points.converted(to: Double.self).columnMeans()
        var total = 0.0
        for i in 0..<points.rows {
            for j in 0..<points.cols {
                let deviation = Double(points[i, j]) - means[j]
                total += deviation * deviation
            }
        }
        return total / Double(points.rows - 1)
    }

    /// Korotin et al. 2021's L2 unexplained variance percentage:
    /// L2-UVP = 100 · `mapMSE` / Var T₀(x_test), with Var the total variance (`totalVariance`) of
    /// the true images of the test control cells. 0 for the true map; 100 for the constant map
    /// x ↦ E[T₀(x)].
    /// - Throws: `StageError.invalidInput` for mismatched shapes, fewer than 2 cells, or true
    ///   images with no variance.
    public static func l2UVP(predicted: Matrix<Float>, truth: Matrix<Float>) throws -> Double {
        let error = try mapMSE(predicted: predicted, truth: truth)
        guard truth.rows >= 2 else { throw StageError.invalidInput("l2_uvp: needs at least 2 test control cells, got \(truth.rows)") }
        let variance = totalVariance(truth)
        guard variance > 0 else { throw StageError.invalidInput("l2_uvp: the true images of the test control cells have no variance") }
        return 100 * error / variance
    }
}
