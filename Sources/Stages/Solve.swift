import Foundation
import LinearAlgebra
import Methods
import Transport

/// The `solve` stage: fits one method's map on a split's training cells (control → treated).
public enum Solve {
    /// The task's parameters: the value its cache key hashes and the value it runs with.
    public struct Parameters: Sendable, Equatable, Codable {
        /// The pipeline's name for the method (its row in the report).
        public let method: String
        /// The catalog method and its whole configuration.
        public let configured: ConfiguredMethod

        public init(method: String, configured: ConfiguredMethod) {
            self.method = method
            self.configured = configured
        }

        // `solver_revision` only when > 0, so methods without one keep their keys.
        private enum CodingKeys: String, CodingKey {
            case method, solver, parameters, solverRevision = "solver_revision"
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(method, forKey: .method)
            try container.encode(configured.name, forKey: .solver)
            try container.encode(AnyConfiguration(configured.configuration), forKey: .parameters)
            if configured.revision > 0 { try container.encode(configured.revision, forKey: .solverRevision) }
        }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            method = try container.decode(String.self, forKey: .method)
            let solver = try container.decode(String.self, forKey: .solver)
            guard let type = MethodCatalog.configuration(named: solver) else {
                throw DecodingError.dataCorruptedError(forKey: .solver, in: container, debugDescription: "unknown method '\(solver)'")
            }
            configured = ConfiguredMethod(try container.decode(type, forKey: .parameters))
        }

        private struct AnyConfiguration: Encodable {
            let value: any MethodConfiguration
            init(_ value: any MethodConfiguration) { self.value = value }
            func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
        }
    }

    /// What the task records besides the fitted map.
    public struct Record: Sendable, Codable {
        public let method: String
        public let solver: String
        public let seconds: Double
        public let converged: Bool
        /// `TransportMap.diagnostics` of the fitted map.
        public let diagnostics: [String: Double]
        /// `TransportMap.solverSteps`: every Sinkhorn run of the fit.
        public let steps: [SolverStep]
    }

    public struct Output: Sendable {
        public let map: any TransportMap<Float>
        public let record: Record

        /// The map as the cache stores it (JSON).
        public func encodedMap() throws -> Data { try JSONEncoder().encode(map) }
    }

    /// Fits on `space`'s rows of the split's training control and treated cells, with the
    /// split's seed.
    public static func run(_ parameters: Parameters, space: FeatureSpace, split: DrugSplit) throws -> Output {
        var rng = SeededRNG(seed: split.seed)
        let start = DispatchTime.now().uptimeNanoseconds
        let map = try parameters.configured.estimator().fit(
            source: space.points.rows(at: split.trainControl), target: space.points.rows(at: split.trainTreated), rng: &rng)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let record = Record(method: parameters.method, solver: parameters.configured.name, seconds: seconds,
                            converged: map.converged, diagnostics: map.diagnostics, steps: map.solverSteps)
        return Output(map: map, record: record)
    }

    /// A map a solve task stored, decoded as its method's map type.
    public static func decodeMap(_ data: Data, solver: String) throws -> any TransportMap<Float> {
        guard let type = MethodCatalog.configuration(named: solver) else {
            throw StageError.invalidInput("the cached map was fitted by '\(solver)', which is not a known method")
        }
        return try ConfiguredMethod(type.init()).decodeMap(data)
    }
}
