import Foundation
import LinearAlgebra

/// pertpy's `DistanceTest("edistance")`: for each condition, the energy distance of its cells
/// from the control cells and a permutation p-value — the labels of the pooled cells shuffled
/// `permutations` times (group sizes kept), p = max(#{E_perm > E}, 1) / permutations — then
/// Holm–Šidák over the conditions. The distance is pertpy's precomputed form: Euclidean, within
/// means over all pairs with the zero diagonal (notes/score-metrics-spec.md §3.2). Unlike pertpy
/// (whose permutations are unseeded), the shuffles follow `seed`; and the control is not among
/// the tests the correction counts (pertpy counts it, at p = 1/permutations).
public enum EnergyTest {
    public struct Row: Sendable, Equatable {
        public let condition: String
        public let cells: Int
        public let distance: Double
        public let pValue: Double
        public let adjustedPValue: Double
    }

    /// `points` (cells × features) with `labels`; every label but `control` is tested.
    public static func run(points: Matrix<Float>, labels: [String], control: String, permutations: Int, seed: UInt64) -> [Row] {
        var groups: [String: [Int]] = [:]
        var order: [String] = []
        for (row, label) in labels.enumerated() {
            if groups[label] == nil { order.append(label) }
            groups[label, default: []].append(row)
        }
        let controlRows = groups[control] ?? []
        var results: [(String, Int, Double, Double)] = []
        for (index, condition) in order.enumerated() where condition != control {
            let rows = groups[condition] ?? []
            let pooled = rows + controlRows
            let distances = distanceMatrix(points.rows(at: pooled))
            let n = pooled.count
            var membership = [Bool](repeating: false, count: n)
            for k in 0..<rows.count { membership[k] = true }
            let observed = energy(distances, n: n, membership: membership)
            var rng = SeededRNG(seed: seed &+ UInt64(index))
            var exceed = 0
            for _ in 0..<permutations {
                rng.shuffle(&membership)
                if energy(distances, n: n, membership: membership) > observed { exceed += 1 }
            }
            results.append((condition, rows.count, observed, Double(Swift.max(exceed, 1)) / Double(permutations)))
        }
        let adjusted = HolmSidak.adjust(results.map(\.3))
        return zip(results, adjusted).map { Row(condition: $0.0, cells: $0.1, distance: $0.2, pValue: $0.3, adjustedPValue: $1) }
    }

    /// E = 2·mean D(g, c) − mean D(g, g) − mean D(c, c), the within means over n² pairs.
    static func energy(_ distances: [Double], n: Int, membership: [Bool]) -> Double {
        var within1 = 0.0, within2 = 0.0, cross = 0.0
        var count1 = 0
        for i in 0..<n where membership[i] { count1 += 1 }
        let count2 = n - count1
        for i in 0..<n {
            let base = i * n, first = membership[i]
            for j in (i + 1)..<Swift.max(i + 1, n) {
                let d = distances[base + j]
                switch (first, membership[j]) {
                case (true, true): within1 += d
                case (false, false): within2 += d
                default: cross += d
                }
            }
        }
        let a = Double(count1), b = Double(count2)
        return 2 * cross / (a * b) - 2 * within1 / (a * a) - 2 * within2 / (b * b)
    }

    /// The n × n Euclidean distances of the rows, in Double.
    static func distanceMatrix(_ points: Matrix<Float>) -> [Double] {
        let x = points.converted(to: Double.self)
        let gram = x.multiplied(by: x, transposeOther: true), norms = EnergyDistance.squaredNorms(x)
        let n = x.rows
        var result = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n where i != j {
                let squared = norms[i] + norms[j] - 2 * gram.storage[i * n + j]
                result[i * n + j] = squared > 0 ? squared.squareRoot() : 0
            }
        }
        return result
    }
}
