/// Benjamini–Hochberg adjusted p-values (the false discovery rate of each test), as
/// `scipy.stats.false_discovery_control(p)`: q₍ᵢ₎ = min over j ≥ i of min(1, p₍ⱼ₎·m/j), in the
/// input order.
public enum BenjaminiHochberg {
    public static func adjust(_ pValues: [Double]) -> [Double] {
        let m = pValues.count
        guard m > 0 else { return [] }
        let order = pValues.indices.sorted { pValues[$0] < pValues[$1] }
        var adjusted = [Double](repeating: 0, count: m)
        var running = 1.0
        for position in stride(from: m - 1, through: 0, by: -1) {
            let index = order[position]
            running = Swift.min(running, pValues[index] * Double(m) / Double(position + 1))
            adjusted[index] = Swift.min(1, running)
        }
        return adjusted
    }
}
