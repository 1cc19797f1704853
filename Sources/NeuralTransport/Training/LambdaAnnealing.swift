import Foundation
import LinearAlgebra

/// Simulated annealing of the sparsity strength λ of the displacement-sparse ICNN (Chen, Xie &
/// Zhang 2025, low-dimensional mode): after each proposal the network trains at the proposed λ,
/// and the proposal is kept by the Metropolis rule on Eval (lower is better).
///
/// Values from the paper's App. C: T₀ = 1.0, T_min = 0.15, decay 0.95 per proposal. The proposal
/// λ' = λ·(1 + r·U(−1, 1)) with radius r = max(0.01, exp(−3(1 − T))) is the authors' code's
/// (`PeterLauLukChen/DisNOT`, `heuristic.py`): wide steps while hot, 1 % steps when cold.
public struct LambdaAnnealing: Sendable, Codable, Equatable {
    public var initialTemperature = 1.0
    public var minimumTemperature = 0.15
    public var decay = 0.95

    public init() {}

    /// One proposal and its verdict.
    public struct Step: Sendable, Codable, Equatable {
        public let temperature: Double
        public let currentLambda: Double
        public let proposedLambda: Double
        public let currentEval: Double
        public let proposedEval: Double
        /// The uniform draw the Metropolis test compared against exp(−ΔEval/T); nil where the
        /// verdict is the dimension constraint instead.
        public let uniform: Double?
        public let accepted: Bool
    }

    /// Temperatures T₀·decayᵏ while they stay ≥ T_min: 37 proposals with the defaults.
    public var temperatures: [Double] {
        guard initialTemperature > 0, decay > 0, decay < 1, minimumTemperature > 0 else { return [] }
        return Array(sequence(first: initialTemperature) { $0 * decay }.prefix { $0 >= minimumTemperature })
    }

    /// The Metropolis rule: a lower Eval is always kept; a higher one with probability
    /// exp(−ΔEval/T).
    public static func accepts(change: Double, temperature: Double, uniform: Double) -> Bool {
        change <= 0 || uniform < exp(-change / temperature)
    }

    /// λ·(1 + r·(2u − 1)) with r = max(0.01, exp(−3(1 − T))).
    public static func proposal(from lambda: Double, temperature: Double, uniform: Double) -> Double {
        let radius = Swift.max(0.01, exp(-3 * (1 - temperature)))
        return lambda * (1 + radius * (2 * uniform - 1))
    }

    /// Runs the schedule from `lambda` whose Eval is `eval`. Per temperature it draws the
    /// proposal's uniform, then calls `trial(λ')` (train at λ', return Eval), then draws the
    /// Metropolis uniform; on rejection it calls `revert(λ)` (train back at the kept λ, return
    /// the new Eval there). Returns the kept λ and every step.
    public func run(
        from lambda: Double, eval: Double, rng: inout SeededRNG,
        trial: (Double) throws -> Double, revert: (Double) throws -> Double
    ) rethrows -> (lambda: Double, steps: [Step]) {
        var current = (lambda: lambda, eval: eval)
        var steps: [Step] = []
        for temperature in temperatures {
            let proposed = Self.proposal(from: current.lambda, temperature: temperature, uniform: rng.uniform())
            let proposedEval = try trial(proposed)
            let uniform = rng.uniform()
            let accepted = Self.accepts(change: proposedEval - current.eval, temperature: temperature, uniform: uniform)
            steps.append(Step(temperature: temperature, currentLambda: current.lambda, proposedLambda: proposed,
                              currentEval: current.eval, proposedEval: proposedEval, uniform: uniform, accepted: accepted))
            if accepted {
                current = (proposed, proposedEval)
            } else {
                current.eval = try revert(current.lambda)
            }
        }
        return (current.lambda, steps)
    }
}
