import Foundation
import LinearAlgebra

/// The `ceiling` stage: for one (drug, d, seed), the references every method's half-sample score
/// is read against (`HalfSample`) — the noise ceiling, each metric between the two halves A and B
/// of the held-out treated cells (what even a perfect map cannot beat at this sample size), and
/// the unmoved control, each metric between |A| held-out control cells and B (what the identity
/// map scores). The report's normalised score is (unmoved − method) / (unmoved − ceiling): 1 at
/// the noise ceiling, 0 no better than leaving the cells where they are.
public enum Ceiling {
    public struct Record: Sendable, Codable, Equatable {
        public let drug: String
        public let components: Int
        public let seed: UInt64
        /// Metric → value between the two halves of the test treated cells.
        public let ceiling: [String: Double]
        /// Metric → value between the test control and the test treated cells.
        public let unmoved: [String: Double]
        public let converged: Bool
    }

    /// The metrics of `parameters` that compare two clouds (the true-map metrics have no ceiling:
    /// the true map scores 0), on the half samples (`HalfSample`); ε is that of the method scores:
    /// OTT's default of all the test treated cells, or the given one.
    public static func run(_ parameters: Evaluate.Parameters, drug: String, space: FeatureSpace, split: DrugSplit) throws -> Record {
        let treated = space.points.rows(at: split.testTreated)
        guard let halves = HalfSample(split) else {
            return Record(drug: drug, components: space.points.cols, seed: split.seed, ceiling: [:], unmoved: [:], converged: true)
        }
        let control = space.points.rows(at: split.testControl)
        let first = treated.rows(at: halves.first), second = treated.rows(at: halves.second)
        let subset = control.rows(at: halves.control)
        let epsilon = try parameters.sinkhornEpsilon ?? Metrics.evaluationEpsilon(testTreated: treated)
        var ceiling: [String: Double] = [:], unmoved: [String: Double] = [:]
        var converged = true
        for metric in parameters.metrics where !metric.needsTrueMap {
            let between = try Evaluate.distribution(metric, predicted: first, observed: second, epsilon: epsilon)
            let still = try Evaluate.distribution(metric, predicted: subset, observed: second, epsilon: epsilon)
            ceiling[metric.rawValue] = between.value
            unmoved[metric.rawValue] = still.value
            converged = converged && between.converged && still.converged
        }
        return Record(drug: drug, components: space.points.cols, seed: split.seed, ceiling: ceiling, unmoved: unmoved,
                      converged: converged)
    }
}
