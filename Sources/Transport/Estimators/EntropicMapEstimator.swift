import LinearAlgebra

/// How an entropic estimator picks ε.
public enum EntropicEpsilon: Sendable, Codable, Equatable {
    /// A rule applied to the (source, target) cost: fixed, OTT's default (`.auto`), or relative
    /// to the mean cost.
    case choice(EpsilonChoice)
    /// Tuned on held-out target points (`EpsilonTuning`): the ε of the best y → y map.
    case tuned(EpsilonTuning)
}

/// The entropic map estimator (Pooladian & Niles-Weed 2021): solve the entropic problem from
/// source to target, then map with `EntropicMap` (the barycentric projection extended through
/// the target potential).
///
/// The pipeline's `eot` is `.tuned` (the ProgOT paper's tuned EOT); `untuned` is
/// `.choice(.auto)`, OTT's default ε. With `.tuned`, the final problem uses all target points;
/// the held-out split only scores the candidate ε.
///
/// With another translation-invariant `cost` it is the map of Cuturi, Klein & Ablin (2023, eq. 7),
/// x − ∇h*(Σ_j p_j(x) ∇h(x − y_j)); `MBOEstimator` is this with an elastic cost.
public struct EntropicMapEstimator: MapEstimator, Equatable {
    public var epsilon: EntropicEpsilon
    /// Threshold, iteration limit and mode of every Sinkhorn run (its `epsilon` is ignored).
    public var sinkhorn: SinkhornOptions
    /// The ground cost of every Sinkhorn run (the ε search's too) and of the map.
    public var cost: GroundCost

    public init(epsilon: EntropicEpsilon = .tuned(EpsilonTuning()), sinkhorn: SinkhornOptions = SinkhornOptions(),
                cost: GroundCost = .squaredEuclidean) {
        self.epsilon = epsilon
        self.sinkhorn = sinkhorn
        self.cost = cost
    }

    public func fit(source: Matrix<Float>, target: Matrix<Float>, rng: inout SeededRNG) throws -> any TransportMap<Float> {
        try fitGeneric(source, target, &rng)
    }

    public func fit(source: Matrix<Double>, target: Matrix<Double>, rng: inout SeededRNG) throws -> any TransportMap<Double> {
        try fitGeneric(source, target, &rng)
    }

    func fitGeneric<Scalar: TransportScalar>(
        _ x: Matrix<Scalar>, _ y: Matrix<Scalar>, _ rng: inout SeededRNG
    ) throws -> EntropicMap<Scalar> {
        try Sinkhorn.validate(x, y)
        let cost = try self.cost.validated()
        var options = sinkhorn
        var selection: EpsilonTuning.Selection?
        switch epsilon {
        case .choice(let choice):
            options.epsilon = choice
        case .tuned(let tuning):
            let chosen = try tuning.select(target: y, sinkhorn: sinkhorn, rng: &rng, cost: cost)
            options.epsilon = .fixed(chosen.epsilon)
            selection = chosen
        }
        let solution = try Sinkhorn.solveGeneric(x, y, options, cost: cost)
        var map = EntropicMap(target: y, g: solution.g, epsilon: solution.epsilon,
                              converged: solution.converged && (selection?.converged ?? true),
                              epsilonSelection: selection,
                              run: SolverStep(.transport, index: 1, result: solution, threshold: options.threshold),
                              cost: cost)
        if options.tauA < 1 { map.sourceMarginal = .init(tau: options.tauA, count: x.rows) }
        return map
    }
}
