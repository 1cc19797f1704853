import Transport

/// Every map estimator perturbot offers, by name: the one place a method is registered.
/// Pipelines (`solver:`), the command line (`--map`), the cache and `perturbot methods` all
/// read it.
public enum MethodCatalog {
    /// In the order `perturbot methods` lists them.
    public static var configurations: [any MethodConfiguration.Type] {
        [
            IdentityMethod.self, MeanShiftMethod.self, EOTMethod.self, UntunedMethod.self, DebiasedMethod.self,
            ProgOTMethod.self, MBOMethod.self, ICNNMethod.self, MongeGapMethod.self, EGNOTMethod.self, SparseICNNMethod.self,
        ]
    }

    public static var names: [String] { configurations.map { $0.name } }

    public static func configuration(named name: String) -> (any MethodConfiguration.Type)? {
        configurations.first { $0.name == name }
    }

    /// What went wrong configuring a method.
    public enum Problem: Error, Equatable {
        /// `key` is not a parameter of the method; `known` lists those it has.
        case unknownParameter(key: String, known: [String])
        /// The value of `key` does not fit its parameter.
        case invalidValue(key: String, message: String)
        /// Each value fits, but not together.
        case combination(String)
    }

    /// The method `name` with `assignments` applied to its defaults, in order (a later value of
    /// the same key wins). Every problem is returned, each with the index of its assignment.
    public static func configure(
        _ type: any MethodConfiguration.Type, _ assignments: [(key: String, value: ParameterValue)]
    ) -> (method: ConfiguredMethod?, problems: [(index: Int?, problem: Problem)]) {
        configure(opening: type, assignments)
    }

    private static func configure<Config: MethodConfiguration>(
        opening _: Config.Type, _ assignments: [(key: String, value: ParameterValue)]
    ) -> (method: ConfiguredMethod?, problems: [(index: Int?, problem: Problem)]) {
        var configuration = Config()
        var problems: [(index: Int?, problem: Problem)] = []
        for (index, assignment) in assignments.enumerated() {
            guard let parameter = Config.parameter(named: assignment.key) else {
                problems.append((index, .unknownParameter(key: assignment.key, known: Config.parameters.map(\.name))))
                continue
            }
            if let message = parameter.schema.problem(with: assignment.value) {
                problems.append((index, .invalidValue(key: assignment.key, message: message)))
            } else {
                parameter.assign(assignment.value, to: &configuration)
            }
        }
        guard problems.isEmpty else { return (nil, problems) }
        if let message = configuration.problem() { return (nil, [(nil, .combination(message))]) }
        return (ConfiguredMethod(configuration), [])
    }
}
