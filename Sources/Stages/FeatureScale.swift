import AnnData
import Foundation
import LinearAlgebra

/// Whether features are on a scale the float32 transport arithmetic can hold: the squared
/// distance between two cells, Σⱼ (xⱼ − yⱼ)², is at most Σⱼ spanⱼ² (spanⱼ = maxⱼ − minⱼ). Past
/// about 1e30 the costs, their spread and ε overflow float32 (every ε becomes 0 or infinite);
/// below about 1e-30 they underflow to 0. Either way the data need rescaling, and the message
/// says so before any task runs.
public enum FeatureScale {
    static let largestSquaredSpan = 1e30
    static let smallestSquaredSpan = 1e-30

    /// The problem with columns spanning `minimum[j]…maximum[j]`, nil when there is none.
    public static func problem(minimum: [Double], maximum: [Double], names: [String]) -> String? {
        let spans = zip(minimum, maximum).map { $1 - $0 }
        let squared = spans.reduce(0.0) { $0 + $1 * $1 }
        guard squared.isFinite else { return overflow(spans: spans, names: names, squared: squared) }
        if squared > largestSquaredSpan { return overflow(spans: spans, names: names, squared: squared) }
        if squared > 0, squared < smallestSquaredSpan {
            return String(format: "the features span at most %.3g (squared distances between cells under %.0e underflow float32, so every cost would be 0); rescale them (multiply by a constant)",
                          spans.max() ?? 0, smallestSquaredSpan)
        }
        return nil
    }

    private static func overflow(spans: [Double], names: [String], squared: Double) -> String {
        let widest = spans.indices.max { spans[$0] < spans[$1] } ?? 0
        let name = widest < names.count ? names[widest] : "feature \(widest + 1)"
        return String(format: "the features span up to %.3g (%@); squared distances between cells would reach %.3g and overflow float32 (costs and ε become infinite or 0); rescale them (divide by a constant, or transform: log1p for counts)",
                      spans[widest], name, squared)
    }

    /// Each column's smallest and largest value (zeros not stored count for CSR).
    public static func ranges(_ features: LoadedFeatures) -> (minimum: [Double], maximum: [Double]) {
        let cols = features.columnCount
        var minimum = [Double](repeating: .infinity, count: cols), maximum = [Double](repeating: -.infinity, count: cols)
        switch features {
        case .dense(let matrix):
            matrix.withUnsafeBufferPointer { values in
                for i in 0..<matrix.rows {
                    for j in 0..<cols {
                        let value = Double(values[i * cols + j])
                        if value < minimum[j] { minimum[j] = value }
                        if value > maximum[j] { maximum[j] = value }
                    }
                }
            }
        case .csr(let sparse):
            var stored = [Int](repeating: 0, count: cols)
            for (p, column) in sparse.indices.enumerated() {
                let j = Int(column), value = Double(sparse.data[p])
                stored[j] += 1
                if value < minimum[j] { minimum[j] = value }
                if value > maximum[j] { maximum[j] = value }
            }
            for j in 0..<cols where stored[j] < sparse.rows {
                minimum[j] = Swift.min(minimum[j], 0)
                maximum[j] = Swift.max(maximum[j], 0)
            }
        }
        for j in 0..<cols where minimum[j] > maximum[j] { (minimum[j], maximum[j]) = (0, 0) }  // no rows
        return (minimum, maximum)
    }
}
