import LinearAlgebra

/// A fitted transport map T: ℝᵈ → ℝᵈ. `Codable`, so the pipeline cache can store it and a later
/// stage can apply it to new points.
public protocol TransportMap<Scalar>: Codable, Sendable {
    associatedtype Scalar: TransportScalar
    /// Whether every solver run while fitting met its convergence criterion. A map that did not
    /// converge still transports points; reports must say so.
    var converged: Bool { get }
    /// Numbers the fit found worth reporting (name → value), e.g. a searched regularisation
    /// strength; empty by default.
    var diagnostics: [String: Double] { get }
    /// Every Sinkhorn run of the fit, in order (ε search, steps, final solve), so a map that did
    /// not converge can be traced to the run that failed; empty for maps that solve none.
    var solverSteps: [SolverStep] { get }
    /// Whether `transport` draws samples (a stochastic map, e.g. an entropic plan sampled point
    /// by point) rather than evaluating a function; false by default.
    var isStochastic: Bool { get }
    /// Maps each row of `points`.
    /// - Throws: `TransportError` when the points have the wrong dimension or are not finite.
    func transport(_ points: Matrix<Scalar>) throws -> Matrix<Scalar>
    /// Each point's retained mass under the fitted plan, as a source point: its row mass × the
    /// number of source points (1 = kept, < 1 = removed, > 1 = multiplied). All 1 for a map of
    /// balanced OT (the default); nil where the map cannot say (see the map's documentation).
    func retainedMass(_ points: Matrix<Scalar>) throws -> [Double]?
}

/// Fits a `TransportMap` from source samples to target samples.
///
/// Both precisions are requirements, rather than one generic method, so every estimator's
/// numeric core is compiled for Float and Double inside this module: a generic entry point
/// called from another module runs unspecialised and many times slower.
public protocol MapEstimator: Sendable {
    /// Fits on source → target (one point per row). `rng` drives any random split or sampling,
    /// so the same seed gives the same map.
    func fit(source: Matrix<Float>, target: Matrix<Float>, rng: inout SeededRNG) throws -> any TransportMap<Float>
    func fit(source: Matrix<Double>, target: Matrix<Double>, rng: inout SeededRNG) throws -> any TransportMap<Double>
}

extension TransportMap {
    public var diagnostics: [String: Double] { [:] }
    public var solverSteps: [SolverStep] { [] }
    public var isStochastic: Bool { false }

    public func retainedMass(_ points: Matrix<Scalar>) throws -> [Double]? {
        [Double](repeating: 1, count: points.rows)
    }

    /// Checks query points before mapping them: `dimension` columns, all finite.
    public func validateQuery(_ points: Matrix<Scalar>, dimension: Int) throws {
        guard points.cols == dimension else {
            throw TransportError.dimensionMismatch(source: points.cols, target: dimension)
        }
        guard points.allFinite else { throw TransportError.nonFinite("query") }
    }
}
