import Foundation
import Transport

/// A method with its whole configuration: the value a pipeline's solve task hashes into its
/// cache key and the value that builds its estimator, so the two cannot disagree.
public struct ConfiguredMethod: Sendable, Equatable, Codable {
    public let configuration: any MethodConfiguration

    public init(_ configuration: any MethodConfiguration) {
        self.configuration = configuration
    }

    /// The method's name in the catalog.
    public var name: String { type(of: configuration).name }

    public var stochastic: Bool { type(of: configuration).stochastic }

    public var revision: Int { type(of: configuration).revision }

    public func estimator() -> any MapEstimator { configuration.estimator() }

    /// Every parameter with its value (unset optional parameters left out), in the catalog's
    /// order: what the method runs with, defaults included.
    public var parameterValues: [(name: String, value: ParameterValue)] {
        values(of: configuration)
    }

    private func values<Config: MethodConfiguration>(of configuration: Config) -> [(name: String, value: ParameterValue)] {
        Config.parameters.compactMap { parameter in parameter.value(in: configuration).map { (parameter.name, $0) } }
    }

    /// Sorted-key JSON of the configuration: equal configurations give equal text.
    public func canonicalJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(configuration), as: UTF8.self)
    }

    /// Decodes a map this method fitted (JSON, as the cache stores it).
    public func decodeMap(_ data: Data) throws -> any TransportMap<Float> {
        let mapType: any TransportMap<Float>.Type = type(of: configuration).mapType
        return try decode(mapType, data)
    }

    private func decode<Map: TransportMap>(_: Map.Type, _ data: Data) throws -> any TransportMap<Float> where Map.Scalar == Float {
        try JSONDecoder().decode(Map.self, from: data)
    }

    public static func == (lhs: ConfiguredMethod, rhs: ConfiguredMethod) -> Bool {
        lhs.name == rhs.name && (try? lhs.canonicalJSON()) == (try? rhs.canonicalJSON())
    }

    private enum CodingKeys: String, CodingKey { case solver, configuration }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .solver)
        try container.encode(configuration, forKey: .configuration)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(String.self, forKey: .solver)
        guard let type = MethodCatalog.configuration(named: name) else {
            throw DecodingError.dataCorruptedError(forKey: .solver, in: container, debugDescription: "unknown method '\(name)'")
        }
        self.init(try container.decode(type, forKey: .configuration))
    }
}
