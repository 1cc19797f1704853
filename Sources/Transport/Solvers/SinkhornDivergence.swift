import LinearAlgebra

/// The debiased Sinkhorn divergence S_ε(x, y) = OT_ε(x, y) − ½·OT_ε(x, x) − ½·OT_ε(y, y)
/// (OTT-JAX's `sinkhorn_divergence`), with the two symmetric terms solved by the averaged
/// update. With τ < 1 in `options` it is the unbalanced divergence of Séjourné et al. (2019,
/// eq. 15), all three terms unbalanced with the same τ_a, τ_b. One ε serves all three terms: the one `options.epsilon` gives for the (x, y) cost.
/// `cost` is the ground cost of all three (OTT's `sinkhorn_divergence` with that `cost_fn`).
public struct SinkhornDivergence: Sendable, Equatable {
    public let value: Double
    public let epsilon: Double
    /// `reg_ot_cost` of the (x, y), (x, x) and (y, y) problems.
    public let crossCost: Double
    public let sourceCost: Double
    public let targetCost: Double
    /// Whether all three problems converged.
    public let converged: Bool

    public static func compute(
        source x: Matrix<Double>, target y: Matrix<Double>, options: SinkhornOptions = SinkhornOptions(),
        cost: GroundCost = .squaredEuclidean
    ) throws -> SinkhornDivergence {
        try computeGeneric(x, y, options, cost: cost)
    }

    public static func compute(
        source x: Matrix<Float>, target y: Matrix<Float>, options: SinkhornOptions = SinkhornOptions(),
        cost: GroundCost = .squaredEuclidean
    ) throws -> SinkhornDivergence {
        try computeGeneric(x, y, options, cost: cost)
    }

    static func computeGeneric<Scalar: TransportScalar>(
        _ x: Matrix<Scalar>, _ y: Matrix<Scalar>, _ options: SinkhornOptions, cost: GroundCost = .squaredEuclidean
    ) throws -> SinkhornDivergence {
        let cross = try Sinkhorn.solveGeneric(x, y, options, cost: cost)
        var fixed = options
        fixed.epsilon = .fixed(cross.epsilon)
        // Unbalanced with τ_a ≠ τ_b the (x, x) problem has no symmetric fixed point f = g: it is
        // solved as any other (OTT solves all three with the same τ_a, τ_b).
        let symmetric = options.tauA == options.tauB
        let source = symmetric ? try Sinkhorn.solveSymmetricGeneric(x, fixed, cost: cost) : try Sinkhorn.solveGeneric(x, x, fixed, cost: cost)
        let target = symmetric ? try Sinkhorn.solveSymmetricGeneric(y, fixed, cost: cost) : try Sinkhorn.solveGeneric(y, y, fixed, cost: cost)
        // Séjourné et al.'s mass term ε/2·(Σa − Σb)² vanishes: both clouds have mass 1.
        return SinkhornDivergence(
            value: cross.regOTCost - 0.5 * (source.regOTCost + target.regOTCost),
            epsilon: cross.epsilon, crossCost: cross.regOTCost, sourceCost: source.regOTCost,
            targetCost: target.regOTCost,
            converged: cross.converged && source.converged && target.converged)
    }
}
