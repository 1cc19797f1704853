/// Options a generator cannot make a dataset from, with a one-line description of what was
/// expected.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case invalidInput(String)

    public var description: String {
        switch self {
        case .invalidInput(let message): return message
        }
    }
}
