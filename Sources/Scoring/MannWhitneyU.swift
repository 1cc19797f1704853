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
        test(sortedFirst: x.sorted(), sortedSecond: y.sorted())
    }

    /// The test on two samples already sorted ascending: one merge pass ranks them, O(n₁ + n₂).
    static func test(sortedFirst x: [Double], sortedSecond y: [Double]) -> Result {
        let n1 = x.count, n2 = y.count, n = n1 + n2
        var rankSum = 0.0, tieTerm = 0.0
        var i = 0, j = 0, ranked = 0
        while i < n1 || j < n2 {
            let value = j >= n2 || (i < n1 && x[i] <= y[j]) ? x[i] : y[j]
            var fromFirst = 0, fromSecond = 0
            while i < n1 && x[i] == value { i += 1; fromFirst += 1 }
            while j < n2 && y[j] == value { j += 1; fromSecond += 1 }
            let t = fromFirst + fromSecond
            rankSum += Double(fromFirst) * (Double(ranked) + Double(t + 1) / 2)
            ranked += t
            let tied = Double(t)
            tieTerm += tied * tied * tied - tied
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
