import Transport

/// The Sinkhorn settings an entropic method passes to every solve of its fit: stopping rule,
/// mode and the accelerators OTT-JAX offers. Defaults are `SinkhornOptions`'s (OTT-JAX's).
public struct SinkhornSettings: Sendable, Equatable, Codable {
    public var threshold = SinkhornOptions().threshold
    public var maxIterations = SinkhornOptions().maxIterations
    public var mode = SinkhornOptions().mode
    public var momentum: SinkhornMomentum?
    public var epsilonInit: Double?
    public var epsilonDecay: Double?
    public var anderson: Int?
    /// Unbalanced OT (OTT-JAX's τ); nil is 1, balanced, and absent from the configuration's
    /// JSON, so balanced methods keep their keys.
    public var tauA: Double?
    public var tauB: Double?

    public init() {}

    /// The parameters of unbalanced OT.
    static let unbalancedParameters: Set<String> = ["tau_a", "tau_b"]

    static var parameters: [MethodParameter<SinkhornSettings>] {
        [
            .number("threshold", \.threshold, .positiveNumber, "Sinkhorn stops when the L1 error of the column marginal is below this"),
            .integer("max_iterations", \.maxIterations, minimum: 1, "Sinkhorn iteration limit"),
            .choice("mode", \.mode, "dense caches the n×m cost; online recomputes it in blocks (never holds n×m); automatic picks by size"),
            MethodParameter("momentum", .momentum, help: "momentum of the updates: a constant ω, or Lehmann's adaptive ω from iteration START",
                            unset: "none", read: { $0.momentum?.parameterValue },
                            write: { if case .success(let momentum) = SinkhornMomentum.parsing($1) { $0.momentum = momentum } }),
            .number("epsilon_init", \.epsilonInit, .positiveNumber, unset: "no ε-scaling",
                    "ε-scaling: start at this multiple (≥ 1) of ε (with epsilon_decay)"),
            .number("epsilon_decay", \.epsilonDecay, .fraction, unset: "no ε-scaling", "ε-scaling: factor per iteration (with epsilon_init)"),
            .integer("anderson", \.anderson, minimum: 1, unset: "none", "Anderson acceleration over this many past iterations (OTT-JAX: 2)"),
            .number("tau_a", \.tauA, .unitInterval, unset: "1 (balanced)",
                    "unbalanced OT: weight τ = ρ/(ρ + ε) of the KL penalty on the source marginal (1 = hard constraint); lets a drug remove or multiply control cells"),
            .number("tau_b", \.tauB, .unitInterval, unset: "1 (balanced)",
                    "unbalanced OT: the same on the target (treated) marginal"),
        ]
    }

    /// The solver's options (their ε is set by the estimator).
    public var options: SinkhornOptions {
        var options = SinkhornOptions(threshold: threshold, maxIterations: maxIterations, mode: mode)
        options.momentum = momentum
        if let epsilonInit, let epsilonDecay {
            options.epsilonScaling = SinkhornEpsilonScaling(initialMultiplier: epsilonInit, decay: epsilonDecay)
        }
        if let anderson { options.anderson = SinkhornAnderson(memory: anderson) }
        options.tauA = tauA ?? 1
        options.tauB = tauB ?? 1
        return options
    }

    /// What is wrong with the accelerators together, or nil.
    func problem() -> String? {
        if (epsilonInit == nil) != (epsilonDecay == nil) {
            return "'epsilon_init' and 'epsilon_decay' go together (ε-scaling)"
        }
        do {
            _ = try options.epsilonScaling?.validated()
            _ = try options.anderson?.validated()
            _ = try options.validatedTaus()
        } catch {
            return "\(error)"
        }
        return nil
    }
}
