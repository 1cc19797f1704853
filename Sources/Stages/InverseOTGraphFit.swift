import Datasets
import Foundation
import InverseTransport
import LinearAlgebra

/// The stage of the inverse-OT graph experiment (seed 004; REFERENCES Part A §3.3): draws one
/// grid point's pairs from the entropic coupling of a graph's shifted Laplacian A*, fits ℓ1 (or
/// nuclear) inverse OT, and scores the estimate's support against A*'s.
public enum InverseOTGraphFit {
    public typealias Penalty = InverseOTPenalty
    public typealias Solver = InverseOTSolver

    /// The estimator's settings a grid shares; defaults are `InverseOTOptions`'s.
    public struct Settings: Sendable, Equatable {
        public var penalty = InverseOTOptions().penalty
        public var tolerance = InverseOTOptions().tolerance
        public var maxIterations = InverseOTOptions().maxIterations
        public var supportTolerance = InverseOTOptions().supportTolerance
        public var sinkhornThreshold = InverseOTOptions().sinkhorn.threshold
        public var sinkhornMaxIterations = InverseOTOptions().sinkhorn.maxIterations
        public var solver = InverseOTOptions().solver

        public init() {}
    }

    /// One task's parameters: the value its cache key hashes and the value it runs with.
    public struct Parameters: Sendable, Equatable, Codable {
        public let graph: IOTGraphDataset.Graph
        public let nodes: Int
        public let delta: Double
        public let pairs: Int
        public let epsilon: Double
        public let seed: UInt64
        public let penalty: Penalty
        /// λ = λ₀·√(log n / n) for the grid's λ₀.
        public let lambda: Double
        public let tolerance: Double
        public let maxIterations: Int
        public let supportTolerance: Double
        public let sinkhornThreshold: Double
        public let sinkhornMaxIterations: Int
        public let solver: InverseOTSolver

        public init(graph: IOTGraphDataset.Graph, nodes: Int, delta: Double, pairs: Int, epsilon: Double, seed: UInt64,
                    lambdaScale: Double, settings: Settings) {
            self.graph = graph
            self.nodes = nodes
            self.delta = delta
            self.pairs = pairs
            self.epsilon = epsilon
            self.seed = seed
            self.penalty = settings.penalty
            self.lambda = InverseOTGraphFit.lambda(scale: lambdaScale, pairs: pairs)
            self.tolerance = settings.tolerance
            self.maxIterations = settings.maxIterations
            self.supportTolerance = settings.supportTolerance
            self.sinkhornThreshold = settings.sinkhornThreshold
            self.sinkhornMaxIterations = settings.sinkhornMaxIterations
            self.solver = settings.solver
        }

        private enum CodingKeys: String, CodingKey {
            case graph, nodes, delta, pairs, epsilon, seed, penalty, lambda, tolerance
            case maxIterations = "max_iterations", supportTolerance = "support_tolerance"
            case sinkhornThreshold = "sinkhorn_threshold", sinkhornMaxIterations = "sinkhorn_max_iterations", solver
        }
    }

    /// Seed 004's ℓ1 pre-certificate of the population problem for this graph at ε: the largest
    /// |ẑ| off the support, and whether it is below 1 (non-degenerate: the support is
    /// recoverable for λ ≳ √(log n / n) and n large enough); nil where it does not apply.
    public static func certificate(graph: IOTGraphDataset.Graph, nodes: Int, delta: Double, epsilon: Double)
        -> (offSupportMaximum: Double, nondegenerate: Bool)? {
        guard let truth = try? IOTGraphDataset.interaction(.init(nodes: nodes, graph: graph, delta: delta)),
              let certificate = try? GaussianCertificate.l1(interaction: truth, epsilon: epsilon) else { return nil }
        return (certificate.offSupportMaximum, certificate.nondegenerate)
    }

    /// λ = λ₀·√(log n / n) (seed 004: support recovery for 1 ≳ λ ≳ √((t + log n)/n)).
    public static func lambda(scale: Double, pairs n: Int) -> Double {
        scale * (Foundation.log(Double(n)) / Double(n)).squareRoot()
    }

    /// Generates the pairs of one grid point, fits, and scores against A*; `lambdaScale` is the
    /// λ₀ the record names.
    public static func run(_ parameters: Parameters, lambdaScale: Double) throws -> InverseOTRecord {
        let start = DispatchTime.now().uptimeNanoseconds
        let data = IOTGraphDataset.Options(nodes: parameters.nodes, graph: parameters.graph, delta: parameters.delta,
                                           epsilon: parameters.epsilon, pairs: parameters.pairs, seed: parameters.seed)
        let (truth, x, y) = try IOTGraphDataset.make(data)
        let problem = try InverseOTProblem(x: x, y: y, epsilon: parameters.epsilon)
        var options = InverseOTOptions()
        options.penalty = parameters.penalty
        options.lambda = parameters.lambda
        options.tolerance = parameters.tolerance
        options.maxIterations = parameters.maxIterations
        options.supportTolerance = parameters.supportTolerance
        options.sinkhorn.threshold = parameters.sinkhornThreshold
        options.sinkhorn.maxIterations = parameters.sinkhornMaxIterations
        options.solver = parameters.solver
        let result = try InverseOTEstimator.fit(problem, options: options)
        let trueSupport = truth.storage.map { $0 != 0 }
        let falsePositives = zip(result.support, trueSupport).filter { $0 && !$1 }.count
        let falseNegatives = zip(result.support, trueSupport).filter { !$0 && $1 }.count
        var squaredError = 0.0, squaredTruth = 0.0, maxError = 0.0
        for (estimate, exact) in zip(result.interaction.storage, truth.storage) {
            squaredError += (estimate - exact) * (estimate - exact)
            squaredTruth += exact * exact
            maxError = Swift.max(maxError, Swift.abs(estimate - exact))
        }
        return InverseOTRecord(
            pairs: parameters.pairs, epsilon: parameters.epsilon, seed: parameters.seed, lambdaScale: lambdaScale, lambda: options.lambda,
            wrongPositions: falsePositives + falseNegatives, falsePositives: falsePositives, falseNegatives: falseNegatives,
            supportSize: result.supportSize, trueSupportSize: trueSupport.filter { $0 }.count, rank: result.rank,
            maxAbsoluteError: maxError, relativeError: (squaredError / squaredTruth).squareRoot(),
            loss: result.loss, objective: result.objective, solver: result.solver, outerIterations: result.outerIterations,
            sinkhornIterations: result.sinkhornIterations, planPasses: result.planPasses,
            unconvergedSinkhornRuns: result.unconvergedSinkhornRuns, converged: result.converged,
            relativeGradientMapping: result.relativeGradientMapping, marginalError: result.marginalError,
            seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}

/// One grid point's outcome, the cache entry of an `inverse_ot` task.
public struct InverseOTRecord: Sendable, Codable, Equatable {
    public let pairs: Int
    public let epsilon: Double
    public let seed: UInt64
    public let lambdaScale: Double
    public let lambda: Double
    /// |supp Â Δ supp A*| over all dx·dy entries, and its two parts.
    public let wrongPositions: Int
    public let falsePositives: Int
    public let falseNegatives: Int
    public let supportSize: Int
    public let trueSupportSize: Int
    public let rank: Int
    /// max_ij |Â_ij − A*_ij| and ‖Â − A*‖_F / ‖A*‖_F.
    public let maxAbsoluteError: Double
    public let relativeError: Double
    public let loss: Double
    public let objective: Double
    /// The solver that ran, its steps, the nested solver's Sinkhorn iterations, and the passes
    /// over the n × n plan either made (`InverseOTResult`).
    public let solver: InverseOTSolver
    public let outerIterations: Int
    public let sinkhornIterations: Int
    public let planPasses: Int
    public let unconvergedSinkhornRuns: Int
    public let converged: Bool
    public let relativeGradientMapping: Double
    public let marginalError: Double
    public let seconds: Double
}
