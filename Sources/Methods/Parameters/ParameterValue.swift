/// A value given to a method parameter, as a pipeline file writes it or a command line reads it
/// (`--set KEY=VALUE`): plain YAML scalars, or a mapping (a ground cost's `{name: …, lambda: …}`).
public enum ParameterValue: Sendable, Equatable, Codable, CustomStringConvertible {
    case integer(Int)
    case number(Double)
    case text(String)
    case flag(Bool)
    /// A nested mapping, key → value.
    case mapping([String: ParameterValue])

    public var description: String {
        switch self {
        case .integer(let value): return String(value)
        case .number(let value): return String(value)
        case .text(let value): return value
        case .flag(let value): return String(value)
        case .mapping(let entries):
            return "{" + entries.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        }
    }

    /// The value as a number, when it is one (an integer counts).
    public var number: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .number(let value): return value
        default: return nil
        }
    }

    /// A command-line value read as a pipeline file's plain YAML scalar would be: an integer, a
    /// number, true/false, or text.
    public static func parsing(_ text: String) -> ParameterValue {
        if let value = Int(text) { return .integer(value) }
        if let value = Double(text), value.isFinite { return .number(value) }
        if text == "true" { return .flag(true) }
        if text == "false" { return .flag(false) }
        return .text(text)
    }
}
