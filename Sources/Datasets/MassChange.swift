import AnnData
import LinearAlgebra

/// A drug that changes how many cells of a state there are (`generate … --death/--growth`):
/// `factor` < 1 kills that share of the state's cells (death 0.8 is factor 0.2), > 1 makes them
/// multiply. A treated cell's state is then drawn with weights p_s·f_s (p the control law's
/// state proportions), so the state's share of the treated cells is f_s/Σ_t p_t f_t times its
/// share of the control cells: the retained mass a perfect unbalanced map shows.
public struct MassChange: Sendable, Equatable {
    public let drug: String
    public let state: String
    public let factor: Double

    public init(drug: String, state: String, factor: Double) {
        self.drug = drug
        self.state = state
        self.factor = factor
    }

    /// Each state's factor for `drug` (1 where unchanged).
    static func factors(_ changes: [MassChange], drug: String, states: [String]) -> [Double] {
        states.map { state in changes.filter { $0.drug == drug && $0.state == state }.reduce(1.0) { $0 * $1.factor } }
    }

    /// - Throws: `DatasetError.invalidInput` naming an unknown drug or state, a negative factor,
    ///   or a drug left without cells.
    static func validate(_ changes: [MassChange], drugs: [String], states: [String]) throws {
        for change in changes {
            guard drugs.contains(change.drug) else {
                throw DatasetError.invalidInput("death/growth: unknown drug '\(change.drug)' (drugs: \(drugs.joined(separator: ", ")))")
            }
            guard states.contains(change.state) else {
                throw DatasetError.invalidInput("death/growth: unknown state '\(change.state)' (states: \(states.joined(separator: ", ")))")
            }
            guard change.factor >= 0, change.factor.isFinite else {
                throw DatasetError.invalidInput("death/growth of \(change.drug) on \(change.state): the factor must be ≥ 0, got \(change.factor)")
            }
        }
        for drug in drugs where factors(changes, drug: drug, states: states).allSatisfy({ $0 == 0 }) {
            throw DatasetError.invalidInput("death of \(drug) kills every state: no treated cell is left")
        }
    }

    /// A state index drawn with probabilities ∝ `weights` (one uniform draw).
    static func draw(_ weights: [Double], _ rng: inout SeededRNG) -> Int {
        var u = rng.uniform() * weights.reduce(0, +)
        return weights.indices.first { u -= weights[$0]; return u < 0 } ?? weights.count - 1
    }

    /// uns: per drug and state, the factor and `expected_retained_mass`, f_s / Σ_t p_t f_t.
    static func truth(_ changes: [MassChange], drugs: [String], states: [String], proportions: [Double]) -> [String: UnsValue] {
        var mass: [String: UnsValue] = [:]
        for drug in drugs {
            let factors = factors(changes, drug: drug, states: states)
            let mean = zip(proportions, factors).reduce(0.0) { $0 + $1.0 * $1.1 }
            var perState: [String: UnsValue] = [:]
            for (index, state) in states.enumerated() {
                perState[state] = .dictionary(["factor": .double(factors[index]), "expected_retained_mass": .double(factors[index] / mean)])
            }
            mass[drug] = .dictionary(perState)
        }
        return mass
    }
}
