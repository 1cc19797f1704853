import LinearAlgebra

/// The debiased entropic map: the map of the Sinkhorn-divergence potential
/// (Pooladian, Cuturi & Niles-Weed, "Debiaser Beware: Pitfalls of Centering Regularized
/// Transport Maps", ICML 2022; OTT-JAX's `sinkhorn_divergence(...).to_dual_potentials()`).
///
/// With f_S = f_xy − f_xx (the divergence's source potential) and c = ‖x − y‖², the map is
/// T(z) = z − ½∇f_S(z). Each entropic potential's gradient is ∇f(z) = 2(z − T(z)) with T its
/// entropic map, so T(z) = T_xy(z) + z − T_xx(z): the entropic map to the target, corrected by
/// the source's own entropic self-map (whose bias it cancels; T_xx(z) = z would be no bias).
public struct DebiasedEntropicMap<Scalar: TransportScalar>: TransportMap, Equatable {
    /// Source → target map T_xy.
    public let cross: EntropicMap<Scalar>
    /// Source → source map T_xx (symmetric problem, same ε).
    public let sourceSelf: EntropicMap<Scalar>

    public var converged: Bool { cross.converged && sourceSelf.converged }

    public var solverSteps: [SolverStep] { cross.solverSteps + sourceSelf.solverSteps }

    public init(cross: EntropicMap<Scalar>, sourceSelf: EntropicMap<Scalar>) {
        self.cross = cross
        self.sourceSelf = sourceSelf
    }

    public func transport(_ points: Matrix<Scalar>) throws -> Matrix<Scalar> {
        let toTarget = try cross.transport(points)
        let toSource = try sourceSelf.transport(points)
        var result = toTarget
        result.withUnsafeMutableBufferPointer { out in
            for k in out.indices { out[k] += points.storage[k] - toSource.storage[k] }
        }
        return result
    }

    /// Solves the (x, y) problem with `options`, then the symmetric (x, x) problem at the same ε;
    /// also returns the (x, y) run.
    static func fit(
        _ x: Matrix<Scalar>, _ y: Matrix<Scalar>, options: SinkhornOptions
    ) throws -> (DebiasedEntropicMap, cross: SinkhornResult<Scalar>) {
        let cross = try Sinkhorn.solveGeneric(x, y, options)
        var symmetric = options
        symmetric.epsilon = .fixed(cross.epsilon)
        let own = try Sinkhorn.solveSymmetricGeneric(x, symmetric)
        let map = DebiasedEntropicMap(
            cross: EntropicMap(solution: cross, target: y, threshold: options.threshold),
            sourceSelf: EntropicMap(solution: own, target: x, threshold: options.threshold, role: .sourceSelf))
        return (map, cross)
    }
}

/// Fits `DebiasedEntropicMap` (the pipeline's `debiased`), ε by `epsilon` on the (x, y) cost.
public struct DebiasedMapEstimator: MapEstimator, Equatable {
    public var epsilon: EpsilonChoice
    public var sinkhorn: SinkhornOptions

    public init(epsilon: EpsilonChoice = .auto, sinkhorn: SinkhornOptions = SinkhornOptions()) {
        self.epsilon = epsilon
        self.sinkhorn = sinkhorn
    }

    public func fit(source: Matrix<Float>, target: Matrix<Float>, rng: inout SeededRNG) throws -> any TransportMap<Float> {
        try fitGeneric(source, target)
    }

    public func fit(source: Matrix<Double>, target: Matrix<Double>, rng: inout SeededRNG) throws -> any TransportMap<Double> {
        try fitGeneric(source, target)
    }

    func fitGeneric<Scalar: TransportScalar>(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>) throws -> DebiasedEntropicMap<Scalar> {
        try Sinkhorn.validate(x, y)
        var options = sinkhorn
        options.epsilon = epsilon
        return try DebiasedEntropicMap.fit(x, y, options: options).0
    }
}
