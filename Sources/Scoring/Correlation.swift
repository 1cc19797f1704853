/// Correlations and ranks as scipy and polars compute them for the score metrics.
enum Correlation {
    /// Pearson's r; NaN when either vector is constant (or shorter than 2).
    static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        guard x.count == y.count, x.count >= 2 else { return .nan }
        let meanX = x.reduce(0, +) / n, meanY = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) {
            sxy += (a - meanX) * (b - meanY)
            sxx += (a - meanX) * (a - meanX)
            syy += (b - meanY) * (b - meanY)
        }
        guard sxx > 0, syy > 0 else { return .nan }
        return Swift.max(-1, Swift.min(1, sxy / (sxx * syy).squareRoot()))
    }

    /// Spearman's ρ: Pearson's r of average ranks (ties share their mean rank).
    static func spearman(_ x: [Double], _ y: [Double]) -> Double {
        pearson(averageRanks(x), averageRanks(y))
    }

    /// 1-based ranks, ties averaged; NaN ranks last, as the largest value.
    static func averageRanks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { a, b in
            let x = values[a], y = values[b]
            if x.isNaN { return false }
            if y.isNaN { return true }
            return x < y
        }
        var ranks = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count, same(values[order[end]], values[order[start]]) { end += 1 }
            let rank = Double(start + end + 1) / 2
            for k in start..<end { ranks[order[k]] = rank }
            start = end
        }
        return ranks
    }

    private static func same(_ a: Double, _ b: Double) -> Bool { a == b || (a.isNaN && b.isNaN) }
}
