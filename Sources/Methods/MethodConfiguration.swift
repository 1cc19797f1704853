import Transport

/// One map estimator's configuration: typed fields with their defaults, written once, from which
/// the pipeline's YAML, the command line's flags and `--set`, the cache key, the estimator and
/// the documentation (`perturbot methods`, docs/methods.md) are all derived.
///
/// Conforming types are value types whose every field is a parameter; `init()` gives the
/// defaults. A fresh conformance is added to `MethodCatalog.configurations`.
public protocol MethodConfiguration: Sendable, Equatable, Codable {
    /// The `solver:` name in a pipeline file and `--map` on the command line.
    static var name: String { get }
    /// One line for `perturbot methods`.
    static var summary: String { get }
    /// Every parameter, in the order documented.
    static var parameters: [MethodParameter<Self>] { get }
    /// Other names a parameter may be given by (alias → parameter name), e.g. the command line's
    /// `--iterations` for sparse_icnn's `init_iterations`.
    static var aliases: [String: String] { get }
    /// The type of the maps it fits, to decode a cached map.
    static var mapType: any TransportMap<Float>.Type { get }
    /// Whether its maps draw samples (`TransportMap.isStochastic`).
    static var stochastic: Bool { get }
    /// Raised when the method's code changes what it fits, so that the cache refits only its
    /// maps; 0 adds nothing to a key.
    static var revision: Int { get }

    /// The defaults.
    init()

    /// What is wrong with a combination of individually valid parameters, or nil.
    func problem() -> String?

    /// The estimator this configuration describes.
    func estimator() -> any MapEstimator

    /// The ground cost the method transports under, where it has one (for the command line's
    /// printed solve); nil for methods that are not entropic maps of a cost.
    var groundCost: GroundCost? { get }

    /// The assignments that give the method the ground cost `cost` (the command line's --cost),
    /// or nil when it takes no such cost.
    static func assignments(forCost cost: GroundCost) -> [(String, ParameterValue)]?
}

extension MethodConfiguration {
    public static var aliases: [String: String] { [:] }
    public static var stochastic: Bool { false }
    public static var revision: Int { 0 }
    public func problem() -> String? { nil }
    public var groundCost: GroundCost? { nil }

    public static func assignments(forCost cost: GroundCost) -> [(String, ParameterValue)]? {
        parameters.contains { $0.name == "cost" } ? [("cost", cost.parameterValue)] : nil
    }

    /// The names of the parameters, in order.
    public static var parameterNames: [String] { parameters.map(\.name) }

    /// Whether the method has a parameter `name` (or an alias of that name).
    public static func takes(_ name: String) -> Bool { parameter(named: name) != nil }

    /// The parameter called `name` (or by one of its aliases).
    public static func parameter(named name: String) -> MethodParameter<Self>? {
        let resolved = aliases[name] ?? name
        return parameters.first { $0.name == resolved }
    }
}
