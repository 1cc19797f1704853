import Transport

/// What one method parameter accepts: its name, its kind of value and the line of help that
/// `perturbot methods`, `docs/methods.md` and the error messages show.
public struct ParameterSchema: Sendable {
    public enum Kind: Sendable {
        /// An integer ≥ the minimum.
        case integer(minimum: Int)
        /// A number > 0.
        case positiveNumber
        /// A number ≥ 0.
        case nonNegativeNumber
        /// A number strictly between 0 and 1.
        case fraction
        /// A number in (0, 1] (OTT-JAX's τ: 1 is balanced).
        case unitInterval
        /// One of these words.
        case choice([String])
        /// true or false.
        case flag
        /// One of these words, or a number > 0 (ε: `auto`, `tuned` or a value).
        case choiceOrPositiveNumber([String])
        /// A ground cost: one of `GroundCost.names`, or a mapping `{name: …, lambda: …, gamma: …, p: …}`.
        case cost
        /// Sinkhorn momentum: a number ω, or `adaptive:START`.
        case momentum

        /// The kind as `perturbot methods` prints it.
        public var typeDescription: String {
            switch self {
            case .integer(let minimum): return "integer ≥ \(minimum)"
            case .positiveNumber: return "number > 0"
            case .nonNegativeNumber: return "number ≥ 0"
            case .fraction: return "number in (0, 1)"
            case .unitInterval: return "number in (0, 1]"
            case .choice(let words): return words.joined(separator: " | ")
            case .flag: return "true | false"
            case .choiceOrPositiveNumber(let words): return (words + ["number > 0"]).joined(separator: " | ")
            case .cost: return (GroundCost.names + ["{name, lambda, gamma, p}"]).joined(separator: " | ")
            case .momentum: return "ω in (0, 2) | adaptive:START"
            }
        }
    }

    public let name: String
    public let kind: Kind
    public let help: String

    public init(name: String, kind: Kind, help: String) {
        self.name = name
        self.kind = kind
        self.help = help
    }

    /// Nil when `value` fits, else what was expected.
    public func problem(with value: ParameterValue) -> String? {
        switch (kind, value) {
        case (.integer(let minimum), .integer(let given)):
            return given >= minimum ? nil : "'\(name)' must be an integer ≥ \(minimum), got \(given)"
        case (.integer(let minimum), _):
            return "'\(name)' must be an integer ≥ \(minimum), got '\(value)'"
        case (.positiveNumber, _):
            if let number = value.number, number > 0, number.isFinite { return nil }
            return "'\(name)' must be a number > 0, got '\(value)'"
        case (.nonNegativeNumber, _):
            if let number = value.number, number >= 0, number.isFinite { return nil }
            return "'\(name)' must be a number ≥ 0, got '\(value)'"
        case (.fraction, _):
            if let number = value.number, number > 0, number < 1 { return nil }
            return "'\(name)' must be a number strictly between 0 and 1, got '\(value)'"
        case (.unitInterval, _):
            if let number = value.number, number > 0, number <= 1 { return nil }
            return "'\(name)' must be a number in (0, 1] (1 is balanced), got '\(value)'"
        case (.choice(let words), .text(let word)):
            return words.contains(word) ? nil : "'\(name)' must be one of \(words.joined(separator: ", ")), got '\(word)'"
        case (.choice(let words), _):
            return "'\(name)' must be one of \(words.joined(separator: ", ")), got '\(value)'"
        case (.flag, .flag):
            return nil
        case (.flag, _):
            return "'\(name)' must be true or false, got '\(value)'"
        case (.choiceOrPositiveNumber(let words), .text(let word)):
            return words.contains(word) ? nil
                : "'\(name)' must be \(words.joined(separator: ", ")) or a number > 0, got '\(word)'"
        case (.choiceOrPositiveNumber(let words), _):
            if let number = value.number, number > 0, number.isFinite { return nil }
            return "'\(name)' must be \(words.joined(separator: ", ")) or a number > 0, got '\(value)'"
        case (.cost, _):
            switch GroundCost.parsing(value) {
            case .success: return nil
            case .failure(let problem): return "'\(name)': \(problem.message)"
            }
        case (.momentum, _):
            switch SinkhornMomentum.parsing(value) {
            case .success: return nil
            case .failure(let problem): return "'\(name)': \(problem.message)"
            }
        }
    }
}

/// Why a parameter value was refused, as one clause.
public struct ParameterProblem: Error, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

extension GroundCost {
    /// The cost a parameter names: a cost name (its parameters at their defaults) or a mapping
    /// `{name: elastic_l1, lambda: 2}`, validated.
    public static func parsing(_ value: ParameterValue) -> Result<GroundCost, ParameterProblem> {
        let expected = "must be \(names.joined(separator: ", ")) or a mapping {name, lambda, gamma, p}"
        var entries: [String: ParameterValue]
        switch value {
        case .text(let name): entries = ["name": .text(name)]
        case .mapping(let mapping): entries = mapping
        default: return .failure(ParameterProblem("\(expected), got '\(value)'"))
        }
        let allowed: Set<String> = ["name", "lambda", "gamma", "p"]
        if let unknown = entries.keys.sorted().first(where: { !allowed.contains($0) }) {
            return .failure(ParameterProblem("unknown key '\(unknown)' (expected name, lambda, gamma, p)"))
        }
        guard case .text(let name)? = entries["name"] else {
            return .failure(ParameterProblem("\(expected), got '\(value)'"))
        }
        var numbers: [String: Double] = [:]
        for key in ["lambda", "gamma", "p"] {
            guard let entry = entries[key] else { continue }
            guard let number = entry.number else { return .failure(ParameterProblem("'\(key)' must be a number, got '\(entry)'")) }
            numbers[key] = number
        }
        let defaults = GroundCost.defaultParameters
        do {
            return .success(try GroundCost(name: name, p: numbers["p"] ?? defaults.p, lambda: numbers["lambda"] ?? defaults.lambda,
                                           gamma: numbers["gamma"] ?? defaults.gamma))
        } catch TransportError.invalidParameter(let message) {
            return .failure(ParameterProblem(message))
        } catch {
            return .failure(ParameterProblem("\(error)"))
        }
    }

    /// The cost as a pipeline file writes it: its name, or a mapping with its parameters.
    public var parameterValue: ParameterValue {
        switch self {
        case .squaredEuclidean: return .text(name)
        case .pNorm(let p): return .mapping(["name": .text(name), "p": .number(p)])
        case .elasticL1(let lambda): return .mapping(["name": .text(name), "lambda": .number(lambda)])
        case .elasticSTVS(let lambda, let gamma):
            return .mapping(["name": .text(name), "lambda": .number(lambda), "gamma": .number(gamma)])
        }
    }
}

extension SinkhornMomentum {
    /// ω as a number, or `adaptive:START`, in range.
    public static func parsing(_ value: ParameterValue) -> Result<SinkhornMomentum, ParameterProblem> {
        let momentum: SinkhornMomentum
        if let omega = value.number {
            momentum = .fixed(omega)
        } else if case .text(let text) = value, text.hasPrefix("adaptive:"), let start = Int(text.dropFirst("adaptive:".count)) {
            momentum = .adaptive(start: start)
        } else {
            return .failure(ParameterProblem("must be a number in (0, 2) or adaptive:START with START ≥ 3, got '\(value)'"))
        }
        do {
            return .success(try momentum.validated())
        } catch {
            return .failure(ParameterProblem("\(error)"))
        }
    }

    /// As a pipeline file writes it.
    public var parameterValue: ParameterValue {
        switch self {
        case .fixed(let omega): return .number(omega)
        case .adaptive(let start): return .text("adaptive:\(start)")
        }
    }
}
