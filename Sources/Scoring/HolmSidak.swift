import Foundation

/// Holm–Šidák step-down adjusted p-values, as statsmodels' `multipletests(method="holm-sidak")`:
/// sorted ascending, p₍ᵢ₎ becomes 1 − (1 − p₍ᵢ₎)^(m − i + 1), made non-decreasing, at most 1;
/// returned in the input order.
public enum HolmSidak {
    public static func adjust(_ pValues: [Double]) -> [Double] {
        let m = pValues.count
        let order = pValues.indices.sorted { pValues[$0] < pValues[$1] }
        var adjusted = [Double](repeating: 0, count: m)
        var running = 0.0
        for (position, index) in order.enumerated() {
            let remaining = Double(m - position)
            // 1 − (1 − p)^r, computed as −expm1(r·log1p(−p)) for small p.
            let value = -expm1(remaining * log1p(-pValues[index]))
            running = Swift.max(running, value)
            adjusted[index] = Swift.min(1, running)
        }
        return adjusted
    }
}
