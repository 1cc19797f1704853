/// One Sinkhorn run inside a fit, recorded so that a map that did not converge can be traced to
/// the run that failed: each scale of an ε search, each ProgOT step, the final solve of `eot`.
public struct SolverStep: Sendable, Codable, Equatable {
    /// What the run was for.
    public enum Role: String, Sendable, Codable, CaseIterable {
        /// Scoring one candidate ε on held-out target points (`EpsilonTuning`).
        case epsilonSearch = "epsilon_search"
        /// Step k of ProgOT: the problem from the current points x_k to the target at ε_k.
        case progressiveStep = "progot_step"
        /// The source → target problem of an entropic map at its chosen ε.
        case transport
        /// The source's own symmetric problem of a debiased map.
        case sourceSelf = "source_self"
    }

    public let role: Role
    /// 1-based position among the runs of the same role.
    public let index: Int
    public let epsilon: Double
    /// ProgOT steps: the fraction α_k of the way the step moves the points.
    public let alpha: Double?
    /// ε searches: the candidate's multiple of the base ε, and its held-out error.
    public let scale: Double?
    public let heldOutError: Double?
    /// The stopping threshold this run used (ProgOT may loosen it on early steps).
    public let threshold: Double
    public let iterations: Int
    public let converged: Bool
    /// L1 error of the column marginal when the run stopped; nil when it is not finite (JSON
    /// cannot hold infinity), e.g. a run that overflowed.
    public let marginalError: Double?

    public init(role: Role, index: Int, epsilon: Double, alpha: Double? = nil, scale: Double? = nil,
                heldOutError: Double? = nil, threshold: Double, iterations: Int, converged: Bool,
                marginalError: Double) {
        self.role = role
        self.index = index
        self.epsilon = epsilon
        self.alpha = alpha
        self.scale = scale
        self.heldOutError = heldOutError
        self.threshold = threshold
        self.iterations = iterations
        self.converged = converged
        self.marginalError = marginalError.isFinite ? marginalError : nil
    }

    /// The record of a finished run.
    public init<Scalar>(_ role: Role, index: Int, result: SinkhornResult<Scalar>, threshold: Double,
                        alpha: Double? = nil, scale: Double? = nil, heldOutError: Double? = nil) {
        self.init(role: role, index: index, epsilon: result.epsilon, alpha: alpha, scale: scale,
                  heldOutError: heldOutError, threshold: threshold, iterations: result.iterations,
                  converged: result.converged, marginalError: result.marginalError)
    }
}
