import LinearAlgebra
import Progress
import Transport

/// The map of a trained Monge gap estimator: T(x) = x + MLP(x).
public struct MongeGapMap<Scalar: NeuralScalar>: TransportMap, Equatable {
    public let network: ResidualMLP<Scalar>
    public let iterations: Int
    /// Training steps whose Sinkhorn solves (fitting loss or gap) hit their iteration limit.
    public let unconvergedSteps: Int
    /// The last step's fitting loss S_ε(T#x̂, ŷ) and Monge gap, on its batch.
    public let finalDivergence: Double
    public let finalMongeGap: Double

    public var converged: Bool { unconvergedSteps == 0 }

    /// The last batch's fitting loss and Monge gap, and the steps whose Sinkhorn solves did not
    /// converge.
    public var diagnostics: [String: Double] {
        ["fitting_divergence": finalDivergence, "monge_gap": finalMongeGap, "unconverged_steps": Double(unconvergedSteps)]
    }

    public func transport(_ points: Matrix<Scalar>) throws -> Matrix<Scalar> {
        try validateQuery(points, dimension: network.inputDimension)
        return network(points)
    }
}

/// The Monge gap estimator (Uscidda & Cuturi 2023) as OTT-JAX's `MongeGapEstimator` sets it up:
/// an MLP map T_θ(x) = x + MLP_θ(x) trained by Adam on, per minibatch,
///
///     S_ε(T#x̂, ŷ) + λ·MongeGap(x̂, T(x̂)),   MongeGap = (1/n)Σ‖x_i − T(x_i)‖² − OT_ε(x̂, T#x̂),
///
/// where S_ε is the Sinkhorn divergence (the fitting loss) and the gap (the regulariser) pushes
/// T towards the optimal map for the squared Euclidean cost. Gradients in T(x̂) come from the
/// envelope theorem (`EntropicLosses`), then back through the MLP by hand.
///
/// Defaults follow OTT-JAX 0.6's estimator and its Monge gap tutorial: hidden [128, 64, 64],
/// Adam lr 1e-3 (optax defaults β₁ 0.9, β₂ 0.999), regulariser strength 1, 10,000 steps; ε
/// is OTT's default (0.05 × std of each batch's cost), batches of 256 points, drawn with
/// replacement from a seeded generator.
public struct MongeGapEstimator: MapEstimator, Equatable {
    public var hiddenUnits: [Int] = [128, 64, 64]
    public var iterations = 10_000
    public var batchSize = 256
    public var learningRate = 1e-3
    public var regularizerStrength = 1.0
    public var epsilon: EpsilonChoice = .auto
    /// Convergence test and iteration cap of every Sinkhorn solve inside a step.
    public var sinkhornThreshold = 1e-3
    public var sinkhornMaxIterations = 1000

    public init() {}

    public func fit(source: Matrix<Float>, target: Matrix<Float>, rng: inout SeededRNG) throws -> any TransportMap<Float> {
        try train(source, target, &rng)
    }

    public func fit(source: Matrix<Double>, target: Matrix<Double>, rng: inout SeededRNG) throws -> any TransportMap<Double> {
        try train(source, target, &rng)
    }

    var sinkhornOptions: SinkhornOptions {
        SinkhornOptions(epsilon: epsilon, threshold: sinkhornThreshold, maxIterations: sinkhornMaxIterations, mode: .dense)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func train<Scalar: NeuralScalar>(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>, _ rng: inout SeededRNG) throws -> MongeGapMap<Scalar> {
        try BLASThreads.withSingleThread { try descend(x, y, &rng) }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private func descend<Scalar: NeuralScalar>(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>, _ rng: inout SeededRNG) throws -> MongeGapMap<Scalar> {
        guard x.rows > 0, y.rows > 0 else { throw TransportError.emptyCloud(x.rows == 0 ? "source" : "target") }
        guard x.cols == y.cols else { throw TransportError.dimensionMismatch(source: x.cols, target: y.cols) }
        guard x.allFinite, y.allFinite else { throw TransportError.nonFinite(x.allFinite ? "target" : "source") }
        guard iterations >= 1, batchSize >= 2, hiddenUnits.allSatisfy({ $0 > 0 }) else {
            throw TransportError.invalidParameter("Monge gap needs iterations ≥ 1, batch size ≥ 2 and hidden units ≥ 1")
        }
        guard learningRate > 0, learningRate.isFinite, regularizerStrength >= 0, regularizerStrength.isFinite else {
            throw TransportError.invalidParameter("Monge gap needs a positive learning rate and a regulariser strength ≥ 0")
        }
        var network = ResidualMLP<Scalar>(inputDimension: x.cols, hiddenUnits: hiddenUnits, rng: &rng)
        var optimiser = Adam<Scalar>(learningRate: learningRate, beta1: 0.9, beta2: 0.999)
        let options = sinkhornOptions
        var unconverged = 0
        var last = (divergence: Double.nan, gap: Double.nan)
        var reporter = TrainingReporter(method: "monge_gap", steps: iterations)
        for step in 0..<iterations {
            let source = x.rows(at: (0..<batchSize).map { _ in rng.bounded(x.rows) })
            let target = y.rows(at: (0..<batchSize).map { _ in rng.bounded(y.rows) })
            let mapped = network(source)
            guard mapped.allFinite else {
                throw TransportError.invalidParameter("Monge gap training diverged at step \(step + 1) (non-finite map); lower learning_rate")
            }
            let isLast = step == iterations - 1
            let fitting = try EntropicLosses.sinkhornDivergence(mapped, target, options: options, includeTargetTerm: isLast)
            var gradient = fitting.gradient
            var converged = fitting.converged
            if regularizerStrength > 0 {
                let gap = try EntropicLosses.mongeGap(reference: source, mapped: mapped, options: options)
                let strength = Scalar(regularizerStrength)
                gradient = gradient.combined(with: gap.gradient) { $0 + strength * $1 }
                converged = converged && gap.converged
                if isLast { last.gap = gap.value }
            }
            if isLast { last.divergence = fitting.value }
            if !converged { unconverged += 1 }
            optimiser.update(&network, gradient: network.parameterGradients(source, outputGradient: gradient))
            if reporter.isDue(step + 1) {
                reporter.report(step: step + 1, detail: unconverged > 0 ? "(\(unconverged) unconverged Sinkhorn steps)" : nil)
            }
        }
        return MongeGapMap(network: network, iterations: iterations, unconvergedSteps: unconverged,
                           finalDivergence: last.divergence, finalMongeGap: regularizerStrength > 0 ? last.gap : 0)
    }
}
