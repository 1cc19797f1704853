import Transport

/// Progressive entropic OT (Kassraie et al., NeurIPS 2024, Algorithms 1–4): K entropic steps,
/// each moving the points a fraction α_k of the way, ε scheduled from OTT's default to the
/// tuned end ε. Defaults are `ProgOTEstimator`'s (their reasons are there).
public struct ProgOTMethod: MethodConfiguration {
    public static let name = "progot"
    public static let summary = "progressive entropic OT (Kassraie et al. 2024)"
    public static var mapType: any TransportMap<Float>.Type { ProgOTMap<Float>.self }

    public var steps = ProgOTEstimator().steps
    public var alpha = ProgOTEstimator().alpha
    public var epsilon = Epsilon.tuned
    public var startEpsilonScale = 1.0
    public var heldOutFraction = EpsilonTuning().heldOutFraction
    public var debiased = ProgOTEstimator().debiased
    public var startAtLeastEnd = ProgOTEstimator().startAtLeastEnd
    public var warmStart = ProgOTEstimator().warmStart
    public var startThreshold = ProgOTEstimator().startThreshold
    public var cost = GroundCost.squaredEuclidean
    public var sinkhorn = SinkhornSettings()

    public init() {}

    public static var parameters: [MethodParameter<Self>] {
        [
            .integer("steps", \.steps, minimum: 1, "number of steps K"),
            .choice("alpha", \.alpha, "step schedule"),
            .epsilon(\.epsilon, accepting: [.tuned], "tuned (the paper's schedule to the held-out tuned end ε) or one number for every step"),
            .number("start_epsilon_scale", \.startEpsilonScale, .positiveNumber, "start ε as a multiple of OTT's default"),
            .number("held_out_fraction", \.heldOutFraction, .fraction, "target fraction held out to tune the end ε"),
            .flag("debiased", \.debiased, "debiased map at every step (needs cost sqeuclidean)"),
            .flag("start_at_least_end", \.startAtLeastEnd, "start ε raised to the tuned end ε when that is larger, so ε never rises"),
            .flag("warm_start", \.warmStart, "start each step from the last potentials × (1 − α)"),
            .number("start_threshold", \.startThreshold, .positiveNumber, unset: "the last step's threshold at every step",
                    "threshold of step 1, falling geometrically to `threshold` at step K"),
            .cost(\.cost, "ground cost of every step"),
        ] + MethodParameter.sinkhorn(\.sinkhorn)
    }

    public var groundCost: GroundCost? { cost }

    public func problem() -> String? {
        if debiased && cost != .squaredEuclidean {
            return "'debiased' steps need cost sqeuclidean (the debiased map is that of ‖x − y‖²), got \(cost.name)"
        }
        if debiased && (sinkhorn.tauA != nil || sinkhorn.tauB != nil) {
            return "'debiased' steps are defined for balanced OT; drop 'tau_a' and 'tau_b' or 'debiased'"
        }
        return sinkhorn.problem()
    }

    public func estimator() -> any MapEstimator { progotEstimator() }

    /// The estimator, typed (the coupling experiment reads its trajectory).
    public func progotEstimator() -> ProgOTEstimator {
        let schedule: ProgOTEpsilon
        if case .value(let value) = epsilon {
            schedule = .fixed(Array(repeating: value, count: steps))
        } else {
            schedule = .scheduled(tuning: EpsilonTuning(heldOutFraction: heldOutFraction), startScale: startEpsilonScale)
        }
        var estimator = ProgOTEstimator(steps: steps, alpha: alpha, epsilon: schedule, debiased: debiased, warmStart: warmStart,
                                        sinkhorn: sinkhorn.options, startThreshold: startThreshold, cost: cost)
        estimator.startAtLeastEnd = startAtLeastEnd
        return estimator
    }
}
