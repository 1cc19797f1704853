import LinearAlgebra

/// cell-eval's metrics on pseudobulks (the mean of log1p expression per perturbation), each
/// perturbation against its real counterpart (notes/score-metrics-spec.md §1.3–1.4): deltas are
/// taken against each file's own control mean.
public enum ArrayMetrics {
    public enum Distance: String, Sendable, CaseIterable {
        case l1, l2, cosine

        func between(_ a: [Double], _ b: [Double]) -> Double {
            switch self {
            case .l1: return zip(a, b).reduce(0) { $0 + Swift.abs($1.0 - $1.1) }
            case .l2: return zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
            case .cosine:
                var dot = 0.0, na = 0.0, nb = 0.0
                for (x, y) in zip(a, b) { dot += x * y; na += x * x; nb += y * y }
                let norms = (na * nb).squareRoot()
                return norms > 0 ? 1 - dot / norms : 1
            }
        }
    }

    /// Pearson r of the predicted and the real change from control.
    public static func pearsonDelta(predicted: [Double], real: [Double]) -> Double {
        Correlation.pearson(predicted, real)
    }

    public static func meanSquaredError(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(Swift.max(1, a.count))
    }

    public static func meanAbsoluteError(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0) { $0 + Swift.abs($1.0 - $1.1) } / Double(Swift.max(1, a.count))
    }

    /// 1 − rank/N, where rank (from 0) is the place of the perturbation's own real change among
    /// every perturbation's real change, ordered by their distance to its predicted change; the
    /// gene named as the perturbation (if any) is left out. Ties keep the perturbations' order.
    public static func discriminationScore(
        of perturbation: String, predictedDelta: [Double], realDeltas: [(name: String, delta: [Double])],
        genes: [String], distance: Distance
    ) -> Double {
        let keep = genes.indices.filter { genes[$0] != perturbation }
        let predicted = keep.map { predictedDelta[$0] }
        let distances = realDeltas.map { entry in distance.between(keep.map { entry.delta[$0] }, predicted) }
        guard let own = realDeltas.firstIndex(where: { $0.name == perturbation }) else { return .nan }
        let rank = distances.indices.filter { distances[$0] < distances[own] || (distances[$0] == distances[own] && $0 < own) }.count
        return 1 - Double(rank) / Double(realDeltas.count)
    }

    /// cell-eval's energy distance of a perturbation's cells P from the control cells C:
    /// 2·mean‖p − c‖ − mean‖p − p′‖ − mean‖c − c′‖, Euclidean, the within means over all
    /// pairs with the zero diagonal (n² terms).
    /// Mean distance over all pairs of `rows`, the zero diagonal included (n² terms).
    public static func withinMeanWithDiagonal(_ values: Matrix<Float>, _ rows: [Int]) -> Double {
        EnergyDistance.meanDistance(values, rows, rows)
    }

    /// `secondWithin`: the within mean of `second`, when already known (the control's, shared by
    /// every perturbation).
    public static func energyDistanceWithDiagonal(_ values: Matrix<Float>, _ first: [Int], _ second: [Int],
                                                  secondWithin: Double? = nil) -> Double {
        2 * EnergyDistance.meanDistance(values, first, second) - EnergyDistance.meanDistance(values, first, first)
            - (secondWithin ?? EnergyDistance.meanDistance(values, second, second))
    }
}
