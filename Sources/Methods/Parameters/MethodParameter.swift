import Transport

/// One parameter of a method's configuration: its schema (name, kind, help) and where its value
/// lives in the configuration `Config`. Reading gives the value a pipeline file would write (the
/// default, on a fresh configuration); writing takes a value the schema has accepted.
public struct MethodParameter<Config> {
    public let schema: ParameterSchema
    /// What an unset optional parameter means (e.g. "ε/10"); nil for parameters that always
    /// hold a value.
    public let unsetMeaning: String?
    let read: (Config) -> ParameterValue?
    let write: (inout Config, ParameterValue) -> Void

    public var name: String { schema.name }

    init(_ name: String, _ kind: ParameterSchema.Kind, help: String, unset: String? = nil,
         read: @escaping (Config) -> ParameterValue?, write: @escaping (inout Config, ParameterValue) -> Void) {
        self.schema = ParameterSchema(name: name, kind: kind, help: help)
        self.unsetMeaning = unset
        self.read = read
        self.write = write
    }

    /// The value in `configuration`, nil when an optional parameter is unset.
    public func value(in configuration: Config) -> ParameterValue? { read(configuration) }

    /// Sets the value; `value` must be one `schema.problem(with:)` accepts.
    public func assign(_ value: ParameterValue, to configuration: inout Config) { write(&configuration, value) }
}

extension MethodParameter {
    static func integer(_ name: String, _ path: WritableKeyPath<Config, Int>, minimum: Int, _ help: String) -> Self {
        Self(name, .integer(minimum: minimum), help: help, read: { .integer($0[keyPath: path]) },
             write: { if case .integer(let value) = $1 { $0[keyPath: path] = value } })
    }

    static func integer(_ name: String, _ path: WritableKeyPath<Config, Int?>, minimum: Int, unset: String, _ help: String) -> Self {
        Self(name, .integer(minimum: minimum), help: help, unset: unset, read: { $0[keyPath: path].map(ParameterValue.integer) },
             write: { if case .integer(let value) = $1 { $0[keyPath: path] = value } })
    }

    static func number(_ name: String, _ path: WritableKeyPath<Config, Double>, _ kind: ParameterSchema.Kind, _ help: String) -> Self {
        Self(name, kind, help: help, read: { .number($0[keyPath: path]) },
             write: { if let value = $1.number { $0[keyPath: path] = value } })
    }

    static func number(_ name: String, _ path: WritableKeyPath<Config, Double?>, _ kind: ParameterSchema.Kind, unset: String,
                       _ help: String) -> Self {
        Self(name, kind, help: help, unset: unset, read: { $0[keyPath: path].map(ParameterValue.number) },
             write: { if let value = $1.number { $0[keyPath: path] = value } })
    }

    static func flag(_ name: String, _ path: WritableKeyPath<Config, Bool>, _ help: String) -> Self {
        Self(name, .flag, help: help, read: { .flag($0[keyPath: path]) },
             write: { if case .flag(let value) = $1 { $0[keyPath: path] = value } })
    }

    static func choice<Choice: RawRepresentable & CaseIterable>(
        _ name: String, _ path: WritableKeyPath<Config, Choice>, _ help: String
    ) -> Self where Choice.RawValue == String {
        Self(name, .choice(Choice.allCases.map(\.rawValue)), help: help, read: { .text($0[keyPath: path].rawValue) },
             write: { if case .text(let word) = $1, let value = Choice(rawValue: word) { $0[keyPath: path] = value } })
    }

    /// ε, accepting the given words besides a number.
    static func epsilon(_ path: WritableKeyPath<Config, Epsilon>, accepting words: [Epsilon], _ help: String) -> Self {
        Self("epsilon", .choiceOrPositiveNumber(words.map(\.description)), help: help, read: { $0[keyPath: path].parameterValue },
             write: { if let value = Epsilon(parameter: $1) { $0[keyPath: path] = value } })
    }

    /// The ground cost of an entropic method.
    static func cost(_ path: WritableKeyPath<Config, GroundCost>, _ help: String) -> Self {
        Self("cost", .cost, help: help, read: { $0[keyPath: path].parameterValue },
             write: { if case .success(let cost) = GroundCost.parsing($1) { $0[keyPath: path] = cost } })
    }

    /// The parameters of `SinkhornSettings`, for a configuration that holds one at `path`.
    /// `unbalanced: false` leaves out `tau_a` and `tau_b` (a method defined for balanced OT).
    static func sinkhorn(_ path: WritableKeyPath<Config, SinkhornSettings>, unbalanced: Bool = true) -> [Self] {
        SinkhornSettings.parameters.filter { unbalanced || !SinkhornSettings.unbalancedParameters.contains($0.name) }.map { parameter in
            Self(parameter.name, parameter.schema.kind, help: parameter.schema.help, unset: parameter.unsetMeaning,
                 read: { parameter.read($0[keyPath: path]) }, write: { parameter.write(&$0[keyPath: path], $1) })
        }
    }
}
