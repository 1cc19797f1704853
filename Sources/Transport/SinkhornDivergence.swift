import LinearAlgebra

/// The debiased Sinkhorn divergence S_ε(x, y) = OT_ε(x, y) − ½·OT_ε(x, x) − ½·OT_ε(y, y)
/// (OTT-JAX's `sinkhorn_divergence`), with the two symmetric terms solved by the averaged
/// update. One ε serves all three terms: the one `options.epsilon` gives for the (x, y) cost.
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
        source x: Matrix<Double>, target y: Matrix<Double>, options: SinkhornOptions = SinkhornOptions()
    ) throws -> SinkhornDivergence {
        try computeGeneric(x, y, options)
    }

    public static func compute(
        source x: Matrix<Float>, target y: Matrix<Float>, options: SinkhornOptions = SinkhornOptions()
    ) throws -> SinkhornDivergence {
        try computeGeneric(x, y, options)
    }

    static func computeGeneric<Scalar: TransportScalar>(
        _ x: Matrix<Scalar>, _ y: Matrix<Scalar>, _ options: SinkhornOptions
    ) throws -> SinkhornDivergence {
        let cross = try Sinkhorn.solveGeneric(x, y, options)
        var fixed = options
        fixed.epsilon = .fixed(cross.epsilon)
        let source = try Sinkhorn.solveSymmetricGeneric(x, fixed)
        let target = try Sinkhorn.solveSymmetricGeneric(y, fixed)
        return SinkhornDivergence(
            value: cross.regOTCost - 0.5 * (source.regOTCost + target.regOTCost),
            epsilon: cross.epsilon, crossCost: cross.regOTCost, sourceCost: source.regOTCost,
            targetCost: target.regOTCost,
            converged: cross.converged && source.converged && target.converged)
    }
}
