import AnnData
import Foundation
import LinearAlgebra

/// A strongly convex potential φ(x) = ½a‖x‖² + ψ(x) on R^D, with ψ a two-layer input-convex
/// network (Amos, Xu & Kolter 2017) whose activation is the sharpened softplus
/// s(t) = log(1 + e^{βt})/β (convex and non-decreasing, s' = σ(βt) with σ the logistic sigmoid):
///
///     u₁ = A₁x + b₁,   z₁ = s(u₁)
///     u₂ = W₂z₁ + A₂x + b₂
///     ψ(x) = w₁ᵀs(u₁) + w₂ᵀs(u₂) + ⟨v, x⟩
///
/// W₂, w₁ and w₂ are ≥ 0 entrywise, so ψ is convex (the linear term ⟨v, x⟩ adds no curvature)
/// and φ is a-strongly convex. By Brenier's theorem T₀ = ∇φ is then the optimal
/// squared-Euclidean map from any law P to T₀#P: the ground truth of the GMM map benchmark
/// (`MapBenchmarkDataset`). ∇φ is a hand-written backward pass:
///
///     ∇φ(x) = a·x + A₁ᵀg₁ + A₂ᵀg₂ + v,   g₂ = w₂ ⊙ σ(βu₂),   g₁ = (w₁ + W₂ᵀg₂) ⊙ σ(βu₁)
///
/// Everything is in Double.
public struct ConvexPotential: Sendable, Codable, Equatable {
    public let dimension: Int
    /// a: the strong-convexity modulus (the Hessian of φ is ⪰ a·I).
    public let quadratic: Double
    /// β of the activation.
    public let sharpness: Double
    /// A₁ (H₁ × D), b₁ (H₁).
    public let inputWeights1: Matrix<Double>
    public let biases1: [Double]
    /// W₂ (H₂ × H₁, ≥ 0), A₂ (H₂ × D), b₂ (H₂).
    public let hiddenWeights: Matrix<Double>
    public let inputWeights2: Matrix<Double>
    public let biases2: [Double]
    /// w₁ (H₁, ≥ 0) and w₂ (H₂, ≥ 0).
    public let outputWeights1: [Double]
    public let outputWeights2: [Double]
    /// v (D).
    public let linear: [Double]

    /// - Precondition: consistent shapes; W₂, w₁, w₂ ≥ 0; a ≥ 0 and β > 0 (a programming
    ///   contract: the generator draws these, no file supplies them).
    public init(quadratic: Double, sharpness: Double, inputWeights1: Matrix<Double>, biases1: [Double],
                hiddenWeights: Matrix<Double>, inputWeights2: Matrix<Double>, biases2: [Double],
                outputWeights1: [Double], outputWeights2: [Double], linear: [Double]) {
        let h1 = inputWeights1.rows, h2 = inputWeights2.rows, d = inputWeights1.cols
        precondition(biases1.count == h1 && hiddenWeights.rows == h2 && hiddenWeights.cols == h1
                     && inputWeights2.cols == d && biases2.count == h2 && outputWeights1.count == h1
                     && outputWeights2.count == h2 && linear.count == d, "ConvexPotential: inconsistent shapes")
        precondition(hiddenWeights.storage.allSatisfy { $0 >= 0 } && outputWeights1.allSatisfy { $0 >= 0 }
                     && outputWeights2.allSatisfy { $0 >= 0 } && quadratic >= 0 && sharpness > 0,
                     "ConvexPotential: W₂, w₁, w₂ and a must be non-negative, β positive")
        self.dimension = d
        self.quadratic = quadratic
        self.sharpness = sharpness
        self.inputWeights1 = inputWeights1
        self.biases1 = biases1
        self.hiddenWeights = hiddenWeights
        self.inputWeights2 = inputWeights2
        self.biases2 = biases2
        self.outputWeights1 = outputWeights1
        self.outputWeights2 = outputWeights2
        self.linear = linear
    }

    /// The same potential with linear term `linear`.
    public func withLinear(_ linear: [Double]) -> ConvexPotential {
        ConvexPotential(quadratic: quadratic, sharpness: sharpness, inputWeights1: inputWeights1, biases1: biases1,
                        hiddenWeights: hiddenWeights, inputWeights2: inputWeights2, biases2: biases2,
                        outputWeights1: outputWeights1, outputWeights2: outputWeights2, linear: linear)
    }

    /// φ(x) for each row of `x`.
    public func values(_ x: Matrix<Double>) -> [Double] {
        let (u1, u2) = forward(x)
        return (0..<x.rows).map { i in
            let square = x.row(i).reduce(0) { $0 + $1 * $1 }
            let first = (0..<u1.cols).reduce(0.0) { $0 + outputWeights1[$1] * activation(u1[i, $1]) }
            let second = (0..<u2.cols).reduce(0.0) { $0 + outputWeights2[$1] * activation(u2[i, $1]) }
            let affine = zip(linear, x.row(i)).reduce(0.0) { $0 + $1.0 * $1.1 }
            return 0.5 * quadratic * square + first + second + affine
        }
    }

    /// ∇φ(x) for each row of `x` (n × D): the true map T₀ of the benchmark.
    public func gradients(_ x: Matrix<Double>) -> Matrix<Double> {
        let (u1, u2) = forward(x)
        let g2 = Matrix(rows: x.rows, cols: u2.cols) { i, k in outputWeights2[k] * slope(u2[i, k]) }
        var back = g2.multiplied(by: hiddenWeights)  // W₂ᵀg₂ per row
        back.addToEachRow(outputWeights1)
        let g1 = back.combined(with: u1) { g, u in g * slope(u) }
        var result = g2.multiplied(by: inputWeights2)
        result.addProduct(g1, inputWeights1)
        return Matrix(rows: x.rows, cols: x.cols) { i, j in quadratic * x[i, j] + result[i, j] + linear[j] }
    }

    /// Pre-activations u₁ (n × H₁) and u₂ (n × H₂).
    func forward(_ x: Matrix<Double>) -> (Matrix<Double>, Matrix<Double>) {
        precondition(x.cols == dimension, "ConvexPotential: input has \(x.cols) columns, expected \(dimension)")
        let u1 = x.multiplied(by: inputWeights1, transposeOther: true).addingToEachRow(biases1)
        var u2 = u1.map(activation).multiplied(by: hiddenWeights, transposeOther: true)
        u2.addProduct(x, inputWeights2, transposeB: true)
        u2.addToEachRow(biases2)
        return (u1, u2)
    }

    /// s(t) = log(1 + e^{βt})/β, without overflow.
    func activation(_ t: Double) -> Double {
        let bt = sharpness * t
        return (bt > 0 ? bt + Foundation.log1p(Foundation.exp(-bt)) : Foundation.log1p(Foundation.exp(bt))) / sharpness
    }

    /// s'(t) = σ(βt), without overflow.
    func slope(_ t: Double) -> Double {
        let bt = sharpness * t
        return bt >= 0 ? 1 / (1 + Foundation.exp(-bt)) : Foundation.exp(bt) / (1 + Foundation.exp(bt))
    }
}

/// A mixture of equally weighted Gaussians N(μ_k, L_kL_kᵀ) in R^D.
public struct GaussianMixture: Sendable, Codable, Equatable {
    public let means: [[Double]]
    /// L_k (D × D): covariance L_kL_kᵀ.
    public let factors: [Matrix<Double>]

    public var dimension: Int { means.first?.count ?? 0 }

    /// `count` independent points, one per row: a component drawn uniformly, then μ_k + L_k ε.
    public func sample(_ count: Int, rng: inout SeededRNG) -> Matrix<Double> {
        let components = (0..<count).map { _ in rng.bounded(means.count) }
        let noise: Matrix<Double> = rng.normalMatrix(rows: count, cols: dimension)
        var result = Matrix<Double>(rows: count, cols: dimension)
        for k in means.indices {
            let rows = components.indices.filter { components[$0] == k }
            guard !rows.isEmpty else { continue }
            let points = noise.rows(at: rows).multiplied(by: factors[k], transposeOther: true).addingToEachRow(means[k])
            result.withUnsafeMutableBufferPointer { buffer in
                for (offset, row) in rows.enumerated() {
                    for j in 0..<dimension { buffer[row * dimension + j] = points[offset, j] }
                }
            }
        }
        return result
    }
}

/// The GMM map benchmark of the ProgOT paper (Kassraie et al. 2024, Table 5), rebuilt here.
///
/// The paper uses Korotin et al. 2021's W2 benchmark (Mix3 → Mix10 with pretrained ICNN maps),
/// which cannot be downloaded on this machine; this is the closest substitute built from the
/// same ingredients: per dimension D, the source law P is a mixture of 3 Gaussians with random
/// means and random non-isotropic covariances, and the target law is T₀#P for a known
/// strongly convex φ (`ConvexPotential`), T₀ = ∇φ, so T₀ is the Brenier map of the pair.
/// Source cells are samples of P; target cells are ∇φ(z) for *fresh* samples z of P (not the
/// source cells), so no coupling between the two clouds is given away.
///
/// Constants (`Constants.standard`); every random draw comes from the seed:
/// - mixture: 3 components, weights 1/3, means μ_k ~ N(0, I); covariance Q_k diag(λ_k) Q_kᵀ
///   with Q_k a random rotation and λ_{k,j} log-uniform in [0.1, 1];
/// - φ: a = 0.3, β = 8, H = max(16, D/4) units in each layer; the rows of A₁ and A₂ are random
///   unit vectors, and each unit's kink passes through a point drawn from P (b₁ = −A₁r,
///   b₂ = −(W₂s(A₁r′ + b₁) + A₂r′)); W₂ entries uniform in [0, 1/H]; w₁ entries uniform in
///   [0, 2J′], w₂ in [0, J′], J′ = 3·√(D/(4H)); v cancels the mean over P of the network part
///   of ∇ψ (estimated on 2,000 cells), so the mean displacement is only (a − 1)·E[x].
/// Few (D/4) sharp units with large weights push the cells on the two sides of each unit's kink
/// apart along its direction, splitting the Gaussians (as Korotin's Mix3 → Mix10 turns 3
/// components into 10), so T₀ is far from affine. For D ∈ {64, 128, 256} (seed 0, 2,500 source cells) E‖T₀(x) − x‖² is 0.8–0.9 × the
/// total variance of x, Var T₀(x) is 0.8–1.0 × Var x, and the best affine map (least squares
/// fitted on 2,000 cells, in-sample) leaves an L2-UVP of ≈ 11–17 %; `MapBenchmarkTests` checks
/// these at D = 64.
///
/// Each dimension is an independent problem whose law and samples depend only on (seed, D), so
/// `--dim 64` alone writes the same `gmm_d64` as `--dim 64 --dim 128`.
///
/// File layout: obs `condition` ∈ {source, target} (source rows first); per D, obsm `gmm_d<D>`
/// holds the points and obsm `true_map_d<D>` holds ∇φ of each row. Only the source rows of
/// `true_map_d<D>` are meaningful (the true images of the source cells); target rows hold ∇φ of
/// the target point too, only so that the matrix is full. X is n × 0 (no features besides the
/// obsm entries; `AnnDataSummary` and `perturbot inspect` need an X).
public enum MapBenchmarkDataset {
    public static let sourceLabel = "source"
    public static let targetLabel = "target"
    public static let conditionKey = "condition"

    public static func featuresKey(_ dimension: Int) -> String { "gmm_d\(dimension)" }
    public static func trueMapKey(_ dimension: Int) -> String { "true_map_d\(dimension)" }

    /// The constants of the construction (documented on the type); `standard` is what the
    /// generator writes.
    public struct Constants: Sendable, Equatable {
        public var components = 3
        public var meanStandardDeviation = 1.0
        public var smallestEigenvalue = 0.1
        public var largestEigenvalue = 1.0
        /// a of φ.
        public var quadratic = 0.3
        /// β of the activation.
        public var sharpness = 8.0
        /// H = max(minimumHiddenUnits, D / dimensionsPerHiddenUnit) units in each layer.
        public var minimumHiddenUnits = 16
        public var dimensionsPerHiddenUnit = 4
        /// W₂ entries uniform in [0, hiddenWeightTotal / H].
        public var hiddenWeightTotal = 1.0
        /// J: w₁ entries uniform in [0, 2J′], w₂ in [0, J′], J′ = J·√(D / (4H)).
        public var jump = 3.0
        /// Cells drawn to centre ∇ψ (the linear term v).
        public var centringSample = 2000

        public static let standard = Constants()

        public init() {}
    }

    public struct Options: Sendable {
        public var dimensions: [Int]
        public var seed: UInt64
        public var sourceCells: Int
        public var targetCells: Int

        public init(dimensions: [Int], seed: UInt64 = 0, sourceCells: Int = 2500, targetCells: Int = 2500) {
            self.dimensions = dimensions
            self.seed = seed
            self.sourceCells = sourceCells
            self.targetCells = targetCells
        }
    }

    /// One dimension's problem: the source law and the potential whose gradient is the true map.
    public struct Problem: Sendable, Equatable {
        public let mixture: GaussianMixture
        public let potential: ConvexPotential

        /// The law and φ of dimension `dimension` under `seed`.
        public init(dimension: Int, seed: UInt64, constants: Constants = .standard) throws {
            guard dimension >= 1 else { throw DatasetError.invalidInput("map benchmark: dimension must be ≥ 1, got \(dimension)") }
            var rng = SeededRNG(seed: MapBenchmarkDataset.streamSeed(seed, dimension, stream: 0))
            let d = dimension, k = constants
            var means: [[Double]] = [], factors: [Matrix<Double>] = []
            let low = k.smallestEigenvalue, ratio = k.largestEigenvalue / k.smallestEigenvalue
            for _ in 0..<k.components {
                means.append((0..<d).map { _ in k.meanStandardDeviation * rng.normal() })
                let gaussian: Matrix<Double> = rng.normalMatrix(rows: d, cols: d)
                let rotation = try gaussian.thinSVD().u
                let roots = (0..<d).map { _ in (low * Foundation.pow(ratio, rng.uniform())).squareRoot() }
                factors.append(Matrix(rows: d, cols: d) { i, j in rotation[i, j] * roots[j] })
            }
            mixture = GaussianMixture(means: means, factors: factors)
            let h = Swift.max(k.minimumHiddenUnits, d / k.dimensionsPerHiddenUnit)
            func directions() -> Matrix<Double> {
                var rows: [[Double]] = []
                for _ in 0..<h {
                    let raw = (0..<d).map { _ in rng.normal() }
                    let norm = Swift.max(raw.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-300)
                    rows.append(raw.map { $0 / norm })
                }
                return Matrix(rows: h, cols: d) { i, j in rows[i][j] }
            }
            // Every kink passes through the data: unit h is anchored at a point r_h drawn from P.
            let a1 = directions()
            let anchors1 = mixture.sample(h, rng: &rng)
            let b1 = (0..<h).map { i in -(0..<d).reduce(0.0) { $0 + a1[i, $1] * anchors1[i, $1] } }
            let w2 = Matrix<Double>(rows: h, cols: h) { _, _ in k.hiddenWeightTotal / Double(h) * rng.uniform() }
            let a2 = directions()
            let anchors2 = mixture.sample(h, rng: &rng)
            let jump = k.jump * (Double(d) / Double(4 * h)).squareRoot()
            let o1 = (0..<h).map { _ in 2 * jump * rng.uniform() }
            let o2 = (0..<h).map { _ in jump * rng.uniform() }
            let zero = [Double](repeating: 0, count: d)
            let firstLayerOnly = ConvexPotential(
                quadratic: k.quadratic, sharpness: k.sharpness, inputWeights1: a1, biases1: b1,
                hiddenWeights: w2, inputWeights2: a2, biases2: [Double](repeating: 0, count: h),
                outputWeights1: o1, outputWeights2: o2, linear: zero)
            let (_, u2AtAnchors) = firstLayerOnly.forward(anchors2)
            let b2 = (0..<h).map { i in -u2AtAnchors[i, i] }
            let uncentred = ConvexPotential(
                quadratic: k.quadratic, sharpness: k.sharpness, inputWeights1: a1, biases1: b1,
                hiddenWeights: w2, inputWeights2: a2, biases2: b2, outputWeights1: o1, outputWeights2: o2, linear: zero)
            // v = −E_P[∇ψ] (on a sample of the law): the map then moves the mean of P only by the
            // quadratic part, (a − 1)·E[x]; cells move by the shape of ψ, not by a translation.
            var centring = SeededRNG(seed: MapBenchmarkDataset.streamSeed(seed, dimension, stream: 2))
            let sample = mixture.sample(k.centringSample, rng: &centring)
            let meanGradient = uncentred.gradients(sample).columnMeans(), meanPoint = sample.columnMeans()
            potential = uncentred.withLinear((0..<d).map { j in -(meanGradient[j] - k.quadratic * meanPoint[j]) })
        }
    }

    /// One dimension's cells: source points x, target points ∇φ(z) for fresh z, and ∇φ of every row.
    public struct Cells: Sendable, Equatable {
        /// Source rows then target rows.
        public let points: Matrix<Double>
        public let trueMap: Matrix<Double>
    }

    public static func cells(_ problem: Problem, dimension: Int, options: Options) -> Cells {
        var rng = SeededRNG(seed: streamSeed(options.seed, dimension, stream: 1))
        let source = problem.mixture.sample(options.sourceCells, rng: &rng)
        let target = problem.potential.gradients(problem.mixture.sample(options.targetCells, rng: &rng))
        let points = Matrix<Double>(rows: source.rows + target.rows, cols: dimension) { i, j in
            i < source.rows ? source[i, j] : target[i - source.rows, j]
        }
        return Cells(points: points, trueMap: problem.potential.gradients(points))
    }

    /// The .h5ad of the benchmark (layout on the type).
    public static func make(_ options: Options) throws -> AnnData<Float> {
        guard !options.dimensions.isEmpty else { throw DatasetError.invalidInput("map benchmark: give at least one dimension (--dim)") }
        guard Set(options.dimensions).count == options.dimensions.count else {
            throw DatasetError.invalidInput("map benchmark: a dimension is listed twice (\(options.dimensions.map(String.init).joined(separator: ", ")))")
        }
        guard options.sourceCells >= 2, options.targetCells >= 2 else {
            throw DatasetError.invalidInput("map benchmark: needs at least 2 source and 2 target cells, got \(options.sourceCells) and \(options.targetCells)")
        }
        let n = options.sourceCells + options.targetCells
        var obsm: [String: Matrix<Float>] = [:]
        for d in options.dimensions {
            let problem = try Problem(dimension: d, seed: options.seed)
            let cells = cells(problem, dimension: d, options: options)
            obsm[featuresKey(d)] = cells.points.converted(to: Float.self)
            obsm[trueMapKey(d)] = cells.trueMap.converted(to: Float.self)
        }
        var obs = DataFrame(index: (0..<n).map { "cell\($0)" })
        let codes = (0..<n).map { Int32($0 < options.sourceCells ? 0 : 1) }
        try obs.setColumn(conditionKey, .categorical(try Categorical(categories: [sourceLabel, targetLabel], codes: codes)))
        return AnnData(X: .dense(Matrix<Float>(rows: n, cols: 0)), obs: obs, var: DataFrame(index: []), obsm: obsm, uns: [
            "perturbot_map_benchmark": .dictionary([
                "generator": .string("perturbot generate map-benchmark"),
                "seed": .integer(Int64(options.seed)),
                "dimensions": .string(options.dimensions.map(String.init).joined(separator: ",")),
                "source_cells": .integer(Int64(options.sourceCells)),
                "target_cells": .integer(Int64(options.targetCells)),
                "quadratic_a": .double(Constants.standard.quadratic),
                "sharpness_beta": .double(Constants.standard.sharpness),
                "note": .string("true_map_d<D> rows of target cells are not meaningful; only source rows carry T0(x)"),
            ]),
        ])
    }

    /// Independent RNG streams per (seed, dimension, purpose): splitmix-style mixing.
    static func streamSeed(_ seed: UInt64, _ dimension: Int, stream: UInt64) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* (UInt64(dimension) &+ 1) &+ 0xD1B5_4A32_D192_ED03 &* (stream &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
