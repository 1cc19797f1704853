import Foundation

/// A value as the report tables print it: four decimals, or three significant digits in
/// exponent form when it is below 1e-3 or from 1e4 up; `nan` when not finite.
func tableNumber(_ value: Double) -> String {
    guard value.isFinite else { return "nan" }
    let magnitude = abs(value)
    return magnitude != 0 && (magnitude < 1e-3 || magnitude >= 1e4) ? String(format: "%.3e", value) : String(format: "%.4f", value)
}

extension Int {
    /// With thousands separators: 1,000,000 (report text and error messages alike).
    public var grouped: String {
        let digits = String(abs(self))
        var grouped = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped += "," }
            grouped.append(character)
        }
        return (self < 0 ? "-" : "") + grouped
    }
}
