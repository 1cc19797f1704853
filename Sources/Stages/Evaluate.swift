import Foundation
import LinearAlgebra
import Transport

/// The `evaluate` stage: transports a split's test control cells with a fitted map and compares
/// the prediction with the test treated cells, metric by metric.
public enum Evaluate {
    public enum Metric: String, Sendable, Codable, CaseIterable {
        case sinkhorn_divergence, mmd, mean_l2
        /// Mean over test control cells of ‖T̂(x) − T₀(x)‖² (ProgOT paper, Table 5); needs
        /// `data.true_map` and `pca: none`.
        case map_mse
        /// 100 · map_mse / Var T₀(x_test) (Korotin et al. 2021's L2-UVP); needs the same.
        case l2_uvp

        /// The metrics of an `evaluate` section that names none (those that need no ground truth).
        public static let defaults: [Metric] = [.sinkhorn_divergence, .mmd, .mean_l2]

        /// Whether the metric compares the map with the true map T₀.
        public var needsTrueMap: Bool { self == .map_mse || self == .l2_uvp }
    }

    /// The task's parameters: the value its cache key hashes and the value it runs with.
    public struct Parameters: Sendable, Equatable, Codable {
        public let metrics: [Metric]
        /// nil: `auto` (OTT's default ε of the test-treated cloud).
        public let sinkhornEpsilon: Double?
        /// A feature of a cell counts as moved when |T(x) − x| exceeds this, in the feature's
        /// units; nil: when it exceeds 0.1 × the feature's standard deviation over the test
        /// control cells.
        public let movedThreshold: Double?
        /// `report.mass_by`: the obs column whose groups the task scores apart, recording each
        /// test control cell's retained mass and, per group, the Sinkhorn divergence between the
        /// prediction for the group's control cells and the group's treated cells. Absent from the
        /// JSON when nil, so the keys of pipelines without it stay as they were.
        public var massBy: String?

        public init(metrics: [Metric], sinkhornEpsilon: Double?, movedThreshold: Double? = nil) {
            self.metrics = metrics
            self.sinkhornEpsilon = sinkhornEpsilon
            self.movedThreshold = movedThreshold
        }

        // Numbers as text, `auto` for no ε: the form the keys have always hashed.
        private enum CodingKeys: String, CodingKey {
            case metrics, sinkhornEpsilon = "sinkhorn_epsilon", movedThreshold = "moved_threshold", massBy = "mass_by"
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(metrics, forKey: .metrics)
            try container.encode(sinkhornEpsilon.map { String($0) } ?? "auto", forKey: .sinkhornEpsilon)
            try container.encodeIfPresent(movedThreshold.map { String($0) }, forKey: .movedThreshold)
            try container.encodeIfPresent(massBy, forKey: .massBy)
        }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            metrics = try container.decode([Metric].self, forKey: .metrics)
            let epsilon = try container.decode(String.self, forKey: .sinkhornEpsilon)
            sinkhornEpsilon = epsilon == "auto" ? nil : Double(epsilon)
            movedThreshold = try container.decodeIfPresent(String.self, forKey: .movedThreshold).flatMap(Double.init)
            massBy = try container.decodeIfPresent(String.self, forKey: .massBy)
        }
    }

    /// Scores `map` on `split`'s test cells of `space`; `solve` is the fit's record. `groups` (one
    /// label per loaded cell) are the values of `parameters.massBy`.
    public static func run(_ parameters: Parameters, drug: String, solve: Solve.Record, map: any TransportMap<Float>,
                           space: FeatureSpace, split: DrugSplit, groups: [String?]? = nil) throws -> EvaluationRecord {
        let control = space.points.rows(at: split.testControl)
        let predicted = try map.transport(control)
        let observed = space.points.rows(at: split.testTreated)
        let epsilon = try parameters.sinkhornEpsilon ?? Metrics.evaluationEpsilon(testTreated: observed)
        var values: [String: Double] = [:]
        var converged = solve.converged
        for metric in parameters.metrics {
            switch metric {
            case .sinkhorn_divergence, .mmd, .mean_l2:
                let (value, metricConverged) = try distribution(metric, predicted: predicted, observed: observed, epsilon: epsilon)
                values[metric.rawValue] = value
                converged = converged && metricConverged
            case .map_mse, .l2_uvp:
                guard let trueMap = space.trueMap else {
                    throw StageError.invalidInput("\(metric.rawValue) needs the true images of data.true_map in feature space (pca: none)")
                }
                let truth = trueMap.rows(at: split.testControl)
                values[metric.rawValue] = metric == .map_mse
                    ? try Metrics.mapMSE(predicted: predicted, truth: truth)
                    : try Metrics.l2UVP(predicted: predicted, truth: truth)
            }
        }
        var halfSampleMetrics: [String: Double]?
        if let halves = HalfSample(split) {
            let subset = predicted.rows(at: halves.control), second = observed.rows(at: halves.second)
            var scores: [String: Double] = [:]
            for metric in parameters.metrics where !metric.needsTrueMap {
                let (value, metricConverged) = try distribution(metric, predicted: subset, observed: second, epsilon: epsilon)
                scores[metric.rawValue] = value
                converged = converged && metricConverged
            }
            halfSampleMetrics = scores
        }
        let rule: Metrics.MovedRule = parameters.movedThreshold.map { .absolute($0) } ?? .default
        // Taken back to feature space once, for the moved counts and the most-moved features.
        let displacement = control.rows > 0
            ? Metrics.FeatureDisplacement(control: control, predicted: predicted, components: space.components) : nil
        let moved = displacement.map { Metrics.movedCounts($0, rule: rule) } ?? []
        let recovery = try space.trueMap.map {
            try Metrics.movedFeatureRecovery(control: control, predicted: predicted, truth: $0.rows(at: split.testControl), rule: rule)
        }
        var record = EvaluationRecord(drug: drug, components: space.points.cols, seed: split.seed,
                                method: solve.method, metrics: values, epsilon: epsilon,
                                converged: converged, seconds: solve.seconds,
                                displacementDimensionality: Metrics.mean(of: moved),
                                displacementDimensionalityP75: Metrics.quantile(moved.map(Double.init), 0.75),
                                movedPrecision: recovery?.precision, movedRecall: recovery?.recall,
                                mostMovedFeatures: displacement.map { Metrics.mostMovedFeatures($0, names: space.featureNames, count: 5) } ?? [],
                                halfSampleMetrics: halfSampleMetrics, diagnostics: solve.diagnostics, solverSteps: solve.steps,
                                preview: .init(control: firstTwo(control), treated: firstTwo(observed), predicted: firstTwo(predicted)))
        if let groups {
            record.retainedMass = try map.retainedMass(control)
            var divergences: [String: Double] = [:]
            for label in Set(split.testControl.compactMap { groups[$0] }).sorted() {
                let own = split.testControl.indices.filter { groups[split.testControl[$0]] == label }
                let treated = split.testTreated.filter { groups[$0] == label }
                guard own.count >= 2, treated.count >= 2 else { continue }
                let divergence = try Metrics.sinkhornDivergence(predicted.rows(at: own), space.points.rows(at: treated), epsilon: epsilon)
                // Descriptive, like the retained mass: an unconverged run shows as NaN, not as a value.
                divergences[label] = divergence.converged ? divergence.value : .nan
            }
            record.groupDivergence = divergences
        }
        return record
    }

    /// A metric that compares two clouds (no true map), and whether its solver converged.
    static func distribution(_ metric: Metric, predicted: Matrix<Float>, observed: Matrix<Float>, epsilon: Double) throws
        -> (value: Double, converged: Bool) {
        switch metric {
        case .sinkhorn_divergence:
            let divergence = try Metrics.sinkhornDivergence(predicted, observed, epsilon: epsilon)
            return (divergence.value, divergence.converged)
        case .mmd: return (Metrics.mmd(predicted, observed), true)
        case .mean_l2: return (Metrics.meanDistance(predicted, observed), true)
        case .map_mse, .l2_uvp: throw StageError.invalidInput("\(metric.rawValue) compares a map with the true map, not two clouds")
        }
    }

    private static func firstTwo(_ points: Matrix<Float>) -> [[Float]] {
        (0..<points.rows).map { i in (0..<Swift.min(2, points.cols)).map { points[i, $0] } }
    }
}
