import LinearAlgebra
import Progress
import Transport

/// The map of a trained ICNN potential g: T(x) = ∇ₓg(x).
public struct ICNNMap<Scalar: TransportScalar>: TransportMap, Equatable {
    public let g: ICNN<Scalar>
    /// Outer iterations run (training has no convergence test; it always runs them all).
    public let iterations: Int
    public var converged: Bool { true }

    public func transport(_ points: Matrix<Scalar>) throws -> Matrix<Scalar> {
        try validateQuery(points, dimension: g.inputDimension)
        return g.inputGradients(points)
    }
}

/// ICNN optimal transport as CellOT trains it (Makkuva et al. 2020): two ICNNs f and g; each
/// outer iteration takes `innerIterations` steps on g's loss
/// L_g = E_x[f(∇g(x)) − ⟨x, ∇g(x)⟩] + penalty·Σ‖relu(−W_g)‖_F, then one step on f's loss
/// L_f = E_y[f(y)] − E_x[f(∇g(x))] followed by clamping f's W to ≥ 0. The map is ∇g.
///
/// Defaults are CellOT's (`configs/models/cellot.yaml`): hidden units [64, 64, 64, 64], uniform
/// init in [−0.1, 0.1], Adam with lr 1e-4, β₁ 0.5, β₂ 0.9, 100,000 outer iterations, 10 inner,
/// g's negative-weight penalty 1, and batches of 256 (`dataloader.batch_size`). Minibatches are
/// drawn with replacement from the seeded generator (CellOT cycles shuffled loaders).
public struct ICNNOTEstimator: MapEstimator, Equatable {
    public var hiddenUnits: [Int] = [64, 64, 64, 64]
    public var iterations = 100_000
    public var innerIterations = 10
    public var batchSize = 256
    public var learningRate = 1e-4
    public var beta1 = 0.5
    public var beta2 = 0.9
    public var negativeWeightPenalty = 1.0
    public var initScale = 0.1

    public init() {}

    public func fit(source: Matrix<Float>, target: Matrix<Float>, rng: inout SeededRNG) throws -> any TransportMap<Float> {
        try train(source, target, &rng)
    }

    public func fit(source: Matrix<Double>, target: Matrix<Double>, rng: inout SeededRNG) throws -> any TransportMap<Double> {
        try train(source, target, &rng)
    }

    func train<Scalar: TransportScalar>(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>, _ rng: inout SeededRNG) throws -> ICNNMap<Scalar> {
        var training = try ICNNOTTraining(settings: self, source: x, target: y, rng: &rng)
        training.reporter = TrainingReporter(method: "icnn", steps: iterations)
        BLASThreads.withSingleThread { training.run(iterations: iterations, rng: &rng) }
        return ICNNMap(g: training.g, iterations: iterations)
    }

    /// Checks the settings and the clouds before training.
    func validate<Scalar: TransportScalar>(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>) throws {
        guard x.rows > 0, y.rows > 0 else { throw TransportError.emptyCloud(x.rows == 0 ? "source" : "target") }
        guard x.cols == y.cols else { throw TransportError.dimensionMismatch(source: x.cols, target: y.cols) }
        guard x.allFinite, y.allFinite else { throw TransportError.nonFinite(x.allFinite ? "target" : "source") }
        guard iterations >= 1, innerIterations >= 1, batchSize >= 1, !hiddenUnits.isEmpty, hiddenUnits.allSatisfy({ $0 > 0 }) else {
            throw TransportError.invalidParameter("ICNN needs iterations, inner iterations, batch size and hidden units ≥ 1")
        }
        guard learningRate > 0, learningRate.isFinite else {
            throw TransportError.invalidParameter("ICNN learning rate must be positive, got \(learningRate)")
        }
    }
}

/// A Makkuva/CellOT minimax run in progress: both networks and their optimisers, advanced some
/// outer iterations at a time, so the displacement-sparse estimator can change λ in between.
struct ICNNOTTraining<Scalar: TransportScalar> {
    let settings: ICNNOTEstimator
    let source: Matrix<Scalar>
    let target: Matrix<Scalar>
    var f: ICNN<Scalar>
    var g: ICNN<Scalar>
    private var fOptimiser: Adam<Scalar>
    private var gOptimiser: Adam<Scalar>
    /// The displacement penalty λ·E_x[τ(∇g(x) − x)] added to g's loss; none when nil or λ = 0.
    var displacementPenalty: DisplacementPenalty?
    var lambda = 0.0
    /// Reports the outer iterations done so far to the thread's progress sink.
    var reporter: TrainingReporter?
    private(set) var completedIterations = 0

    init(settings: ICNNOTEstimator, source: Matrix<Scalar>, target: Matrix<Scalar>, rng: inout SeededRNG) throws {
        try settings.validate(source, target)
        self.settings = settings
        self.source = source
        self.target = target
        f = ICNN(inputDimension: source.cols, hiddenUnits: settings.hiddenUnits, initScale: settings.initScale, rng: &rng)
        g = ICNN(inputDimension: source.cols, hiddenUnits: settings.hiddenUnits, initScale: settings.initScale, rng: &rng)
        f.clampHiddenWeights()
        fOptimiser = Adam(learningRate: settings.learningRate, beta1: settings.beta1, beta2: settings.beta2)
        gOptimiser = Adam(learningRate: settings.learningRate, beta1: settings.beta1, beta2: settings.beta2)
    }

    /// `iterations` outer iterations: `innerIterations` g-steps, then one f-step and f's clamp.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    mutating func run(iterations: Int, rng: inout SeededRNG) {
        let batchSize = settings.batchSize
        func batch(_ cloud: Matrix<Scalar>) -> Matrix<Scalar> {
            cloud.rows(at: (0..<batchSize).map { _ in rng.bounded(cloud.rows) })
        }
        let weight = Scalar(1) / Scalar(batchSize)
        for _ in 0..<iterations {
            for _ in 0..<settings.innerIterations {
                let points = batch(source)
                let (f, g, penalty, lambda) = (self.f, self.g, displacementPenalty, lambda)
                let chunks = BatchChunks.map(count: points.rows) { range in
                    let chunk = points.rows(in: range)
                    let trace = g.forward(chunk)
                    let mapped = g.inputGradients(chunk, trace: trace)
                    // ∂L_g/∂θ = E⟨∇f(∇g(x)) − x + λ∇τ(∇g(x) − x), ∂θ∇g(x)⟩.
                    var direction = f.inputGradients(mapped) - chunk
                    if let penalty, lambda > 0 {
                        direction = direction + penalty.gradient(mapped - chunk, scale: lambda)
                    }
                    return g.directionalDerivativeGradients(
                        chunk, directions: direction, weights: [Scalar](repeating: weight, count: chunk.rows), trace: trace).parameters
                }
                var gradient = ICNNGradients.flatSum(chunks)
                addPenaltyGradient(to: &gradient)
                gOptimiser.update(&self.g, gradient: gradient)
            }
            let (targetPoints, sourcePoints, f, g) = (batch(target), batch(source), self.f, self.g)
            let chunks = BatchChunks.map(count: batchSize) { range in
                let onTarget = f.parameterGradients(targetPoints.rows(in: range), weights: [Scalar](repeating: weight, count: range.count))
                let onMapped = f.parameterGradients(g.inputGradients(sourcePoints.rows(in: range)),
                                                    weights: [Scalar](repeating: -weight, count: range.count))
                return onTarget.adding(onMapped)
            }
            fOptimiser.update(&self.f, gradient: ICNNGradients.flatSum(chunks))
            self.f.clampHiddenWeights()
            completedIterations += 1
            if reporter?.isDue(completedIterations) == true { reporter?.report(step: completedIterations) }
        }
    }

    /// Adds the gradient of penalty·Σ_k ‖relu(−W_k)‖_F, penalty·W_ij/‖relu(−W_k)‖ where W_ij < 0,
    /// to g's flat gradient (`ICNN.flatParameters` order: the W_k come last).
    private func addPenaltyGradient(to gradient: inout [Scalar]) {
        guard settings.negativeWeightPenalty > 0 else { return }
        var offset = gradient.count - g.hiddenWeights.reduce(0) { $0 + $1.storage.count }
        for w in g.hiddenWeights {
            let count = w.storage.count
            defer { offset += count }
            let norm = w.storage.reduce(Scalar(0)) { $0 + ($1 < 0 ? $1 * $1 : 0) }.squareRoot()
            guard norm > 0 else { continue }
            let scale = Scalar(settings.negativeWeightPenalty) / norm
            w.withUnsafeBufferPointer { weights in
                gradient.withUnsafeMutableBufferPointer { flat in
                    for i in 0..<count {
                        let weight = weights[i]
                        flat[offset + i] = flat[offset + i] + (weight < 0 ? scale * weight : 0)
                    }
                }
            }
        }
    }
}

extension ICNNGradients {
    /// Σ of `chunks` (left to right, as folding `adding` would) in `flattened` order, written
    /// straight into one flat array: no intermediate gradients, no second copy.
    static func flatSum(_ chunks: [ICNNGradients]) -> [Scalar] {
        guard !chunks.isEmpty else { return [] }
        func blocks(_ gradients: ICNNGradients) -> [[Scalar]] {
            var result: [[Scalar]] = []
            for k in gradients.inputWeights.indices {
                result.append(gradients.inputWeights[k].storage)
                result.append(gradients.biases[k])
            }
            return result + gradients.hiddenWeights.map(\.storage)
        }
        let parts = chunks.map(blocks)
        let count = parts[0].reduce(0) { $0 + $1.count }
        precondition(parts.allSatisfy { $0.map(\.count) == parts[0].map(\.count) }, "gradients of different networks")
        // Scalar is Float or Double (trivial): assigning into the uninitialised buffer is fine.
        return [Scalar](unsafeUninitializedCapacity: count) { out, initialised in
            var offset = 0
            for b in parts[0].indices {
                let length = parts[0][b].count
                parts[0][b].withUnsafeBufferPointer { source in
                    for i in 0..<length { out[offset + i] = source[i] }
                }
                for c in parts.indices.dropFirst() {
                    parts[c][b].withUnsafeBufferPointer { source in
                        for i in 0..<length { out[offset + i] = out[offset + i] + source[i] }
                    }
                }
                offset += length
            }
            initialised = count
        }
    }

    /// The element-wise sum of two gradients of the same network.
    func adding(_ other: ICNNGradients) -> ICNNGradients {
        var sum = self
        for k in sum.inputWeights.indices {
            sum.inputWeights[k] = sum.inputWeights[k] + other.inputWeights[k]
            sum.biases[k] = zip(sum.biases[k], other.biases[k]).map { $0 + $1 }
        }
        for k in sum.hiddenWeights.indices {
            sum.hiddenWeights[k] = sum.hiddenWeights[k] + other.hiddenWeights[k]
        }
        return sum
    }
}
