import Foundation

/// The Mann–Whitney U test of two samples, two-sided, by the normal approximation with the
/// continuity and tie corrections — `scipy.stats.mannwhitneyu(x, y, use_continuity=True,
/// alternative="two-sided", method="asymptotic")`, the test pdex (and so cell-eval) runs per gene
/// (notes/score-metrics-spec.md §2).
public enum MannWhitneyU {
    public struct Result: Sendable, Equatable {
        /// U of the first sample: its rank sum less n₁(n₁ + 1)/2.
        public let statistic: Double
        public let pValue: Double
    }

    /// Tests `x` against `y`. Ranks are averaged over ties of the pooled sample; the variance is
    /// n₁n₂/12 · ((n + 1) − Σ(t³ − t)/(n(n − 1))); when it is 0 (every value equal) p = 1.
    public static func test(_ x: [Double], _ y: [Double]) -> Result {
        var pooled = [(value: Double, first: Bool)]()
        pooled.reserveCapacity(x.count + y.count)
        for value in x { pooled.append((value, true)) }
        for value in y { pooled.append((value, false)) }
        return test(sorting: &pooled, n1: x.count, n2: y.count)
    }

    /// The test on a pooled sample (sorted here in place), `n1` of its values from the first sample.
    static func test(sorting pooled: inout [(value: Double, first: Bool)], n1: Int, n2: Int) -> Result {
        pooled.sort { $0.value < $1.value }
        let n = n1 + n2
        var rankSum = 0.0, tieTerm = 0.0
        var start = 0
        while start < n {
            var end = start + 1
            while end < n && pooled[end].value == pooled[start].value { end += 1 }
            let averageRank = Double(start + end + 1) / 2
            var fromFirst = 0
            for k in start..<end where pooled[k].first { fromFirst += 1 }
            rankSum += Double(fromFirst) * averageRank
            let t = Double(end - start)
            tieTerm += t * t * t - t
            start = end
        }
        let a = Double(n1), b = Double(n2), total = Double(n)
        let u1 = rankSum - a * (a + 1) / 2
        let u2 = a * b - u1
        let variance = a * b / 12 * ((total + 1) - tieTerm / (total * (total - 1)))
        guard variance > 0, variance.isFinite else { return Result(statistic: u1, pValue: 1) }
        let z = (Swift.max(u1, u2) - a * b / 2 - 0.5) / variance.squareRoot()
        // 2·Φ(−z) = erfc(z/√2)
        let p = Foundation.erfc(z / 2.0.squareRoot())
        return Result(statistic: u1, pValue: Swift.min(1, Swift.max(0, p)))
    }
}
