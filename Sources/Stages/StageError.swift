/// A stage that cannot do its work on the input it was given; the message says what was expected.
public enum StageError: Error, Equatable, CustomStringConvertible {
    case invalidInput(String)

    public var description: String {
        switch self {
        case .invalidInput(let message): return message
        }
    }
}
