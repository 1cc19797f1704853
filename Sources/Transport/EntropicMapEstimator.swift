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
public struct EntropicMapEstimator: MapEstimator, Equatable {
    public var epsilon: EntropicEpsilon
    /// Threshold, iteration limit and mode of every Sinkhorn run (its `epsilon` is ignored).
    public var sinkhorn: SinkhornOptions

    public init(epsilon: EntropicEpsilon = .tuned(EpsilonTuning()), sinkhorn: SinkhornOptions = SinkhornOptions()) {
        self.epsilon = epsilon
        self.sinkhorn = sinkhorn
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
        var options = sinkhorn
        var selection: EpsilonTuning.Selection?
        switch epsilon {
        case .choice(let choice):
            options.epsilon = choice
        case .tuned(let tuning):
            let chosen = try tuning.select(target: y, sinkhorn: sinkhorn, rng: &rng)
            options.epsilon = .fixed(chosen.epsilon)
            selection = chosen
        }
        let solution = try Sinkhorn.solveGeneric(x, y, options)
        return EntropicMap(target: y, g: solution.g, epsilon: solution.epsilon,
                           converged: solution.converged && (selection?.converged ?? true),
                           epsilonSelection: selection,
                           run: SolverStep(.transport, index: 1, result: solution, threshold: options.threshold))
    }
}
