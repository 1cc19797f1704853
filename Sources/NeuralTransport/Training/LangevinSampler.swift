import Foundation
import LinearAlgebra

/// Euler–Maruyama (unadjusted Langevin) sampling of the conditional plan of the energy-guided
/// EOT solver, π(y | x) ∝ exp((f(y) − c(x, y))/ε) with c(x, y) = ½‖x − y‖², given a potential
/// network u_θ whose scaled output is the potential, f = (ε/η)·u_θ.
///
/// One step, for every chain y conditioned on its x, with ξ ~ N(0, I):
///
///     y ← y + ½∇u_θ(y) − (η/(2ε))(y − x) + s·ξ
///
/// This is seed 003's step y + (η/(2ε))∇_y[f(y) − c(x, y)] + √η·ξ written in u_θ, and it is the
/// authors' code (`sample_langevin_batch` with STEP = 1, COST_COEF = σ², HREG = ε, η = σ²;
/// REFERENCES.md Part A §2.2), where the network output is likewise f·η/ε. With the default
/// noise s = √η the chain targets exp(u_θ/η − c/ε), i.e. π(y | x) at ε. Another s tempers it:
/// the chain then targets the plan of ε·s²/η.
public struct LangevinSampler: Sendable, Codable, Equatable {
    /// ε of the plan, for the cost ½‖x − y‖².
    public var epsilon: Double
    /// η, the Euler–Maruyama step.
    public var stepSize: Double
    /// s, the standard deviation of each step's noise; √η when nil.
    public var noise: Double?

    public init(epsilon: Double, stepSize: Double, noise: Double? = nil) {
        self.epsilon = epsilon
        self.stepSize = stepSize
        self.noise = noise
    }

    public var noiseStandardDeviation: Double { noise ?? stepSize.squareRoot() }

    /// Runs `steps` steps of every chain (a row of `chains`, conditioned on the same row of
    /// `conditions`) and returns where the chains end. Rows split over two cores from 128 chains
    /// on, each half with its own generator drawn from `rng`, so a seed gives the same samples.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func run<Scalar: BLASScalar>(
        _ potential: PotentialMLP<Scalar>, chains: Matrix<Scalar>, conditions: Matrix<Scalar>, steps: Int,
        rng: inout SeededRNG
    ) -> Matrix<Scalar> {
        precondition(chains.rows == conditions.rows && chains.cols == conditions.cols && chains.cols == potential.inputDimension)
        guard steps > 0, chains.rows > 0 else { return chains }
        let seeds = [rng.next(), rng.next()]
        let settings = self
        let parts = BatchChunks.map(count: chains.rows) { range in
            var local = SeededRNG(seed: seeds[range.lowerBound == 0 ? 0 : 1])
            return settings.advance(potential, chains: chains.rows(in: range), conditions: conditions.rows(in: range),
                                    steps: steps, rng: &local)
        }
        guard parts.count > 1 else { return parts[0] }
        return Matrix(stacking: parts)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func advance<Scalar: BLASScalar>(
        _ potential: PotentialMLP<Scalar>, chains: Matrix<Scalar>, conditions: Matrix<Scalar>, steps: Int,
        rng: inout SeededRNG
    ) -> Matrix<Scalar> {
        var y = chains
        let pull = Scalar(stepSize / (2 * epsilon)), half = Scalar(0.5), s = noiseStandardDeviation
        let count = y.rows * y.cols
        var noise = [Scalar](repeating: 0, count: count)
        for _ in 0..<steps {
            let score = potential.inputGradients(y)
            for index in 0..<count { noise[index] = Scalar(s * rng.normal()) }
            score.withUnsafeBufferPointer { g in
                conditions.withUnsafeBufferPointer { x in
                    noise.withUnsafeBufferPointer { z in
                        y.withUnsafeMutableBufferPointer { chain in
                            for index in 0..<count {
                                chain[index] += half * g[index] - pull * (chain[index] - x[index]) + z[index]
                            }
                        }
                    }
                }
            }
        }
        return y
    }
}

extension Matrix {
    /// The rows of `parts`, in order, as one matrix (all parts have the same columns).
    init(stacking parts: [Matrix]) {
        let cols = parts.first?.cols ?? 0
        precondition(parts.allSatisfy { $0.cols == cols }, "stacked matrices differ in columns")
        self.init(rows: parts.reduce(0) { $0 + $1.rows }, cols: cols, storageFrom: parts.flatMap(\.storage))
    }

    private init(rows: Int, cols: Int, storageFrom values: [Scalar]) {
        self.init(rows: rows, cols: cols) { i, j in values[i * cols + j] }
    }
}
