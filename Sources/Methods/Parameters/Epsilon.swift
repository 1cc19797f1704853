import Transport

/// The entropic regularisation ε of a method, as a user writes it. Each word has one meaning
/// for every method: `auto` is OTT-JAX's default ε of the problem (0.05 × the standard
/// deviation of its cost matrix), `tuned` is the held-out search of the ProgOT paper's
/// Algorithm 4 (`EpsilonTuning`), a number is that ε. Which words a method accepts is in its
/// parameters (`perturbot methods`).
public enum Epsilon: Sendable, Equatable, Codable, CustomStringConvertible {
    case auto
    case tuned
    case value(Double)

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .tuned: return "tuned"
        case .value(let value): return String(value)
        }
    }

    /// As a pipeline file writes it.
    public var parameterValue: ParameterValue {
        if case .value(let value) = self { return .number(value) }
        return .text(description)
    }

    /// The ε a parameter names (a word or a number > 0), nil for anything else.
    public init?(parameter: ParameterValue) {
        switch parameter {
        case .text("auto"): self = .auto
        case .text("tuned"): self = .tuned
        default:
            guard let value = parameter.number, value > 0, value.isFinite else { return nil }
            self = .value(value)
        }
    }

    /// The solver's rule for `.auto` and a number (`.tuned` is the estimator's own search).
    var choice: EpsilonChoice {
        if case .value(let value) = self { return .fixed(value) }
        return .auto
    }

    /// An entropic estimator's ε: `.tuned` searches with `tuning`.
    func entropic(tuning: EpsilonTuning) -> EntropicEpsilon {
        self == .tuned ? .tuned(tuning) : .choice(choice)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Double.self) {
            self = .value(value)
            return
        }
        let word = try container.decode(String.self)
        guard let epsilon = Epsilon(parameter: .text(word)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "ε must be auto, tuned or a number, got '\(word)'")
        }
        self = epsilon
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .value(let value): try container.encode(value)
        default: try container.encode(description)
        }
    }
}
