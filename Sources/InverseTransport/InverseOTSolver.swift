/// How the inverse-OT estimator minimises L(θ) + λR(θ) (`InverseOTEstimator`).
public enum InverseOTSolver: String, Sendable, Codable, CaseIterable {
    /// `joint` for the ℓ1 penalty and none, `nested` for the nuclear norm (whose proximal step
    /// the joint solver's orthant-wise quasi-Newton cannot take).
    case automatic = "auto"
    /// OWL-QN over (θ, g) with f eliminated exactly: one pass over the plan per step, no inner
    /// Sinkhorn (`InverseOTJointSolver`). ℓ1 and no penalty.
    case joint
    /// FISTA on θ with a Sinkhorn run to its threshold at every point it evaluates
    /// (`InverseOTNestedSolver`). Every penalty; at small ε each Sinkhorn needs thousands of
    /// iterations.
    case nested

    /// The solver `automatic` stands for under `penalty`.
    public func resolved(for penalty: InverseOTPenalty) -> InverseOTSolver {
        guard self == .automatic else { return self }
        return penalty == .nuclear ? .nested : .joint
    }
}
