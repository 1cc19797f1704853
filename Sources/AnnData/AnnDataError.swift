/// An error reading or writing an `.h5ad` file. Its `description` is one line that names the
/// file and, where there is one, the element inside it.
public struct AnnDataError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case fileNotFound
        case notHDF5
        case corrupt
        case missingElement
        case missingObsColumn
        case unsupportedEncoding
        case invalidLayout
        case writeFailed
    }

    public let kind: Kind
    /// The file path as given by the caller.
    public let file: String
    /// The HDF5 path of the element concerned (`X`, `obs/drug`, …), when there is one.
    public let element: String?
    public let detail: String

    public init(_ kind: Kind, file: String, element: String? = nil, detail: String) {
        self.kind = kind
        self.file = file
        self.element = element
        self.detail = detail
    }

    /// `file: obs: no column 'name' (columns: …)`, listing the columns that do exist.
    public static func missingObsColumn(_ name: String, available: [String], file: String) -> AnnDataError {
        let columns = available.isEmpty ? "none" : available.joined(separator: ", ")
        return AnnDataError(.missingObsColumn, file: file, element: "obs",
                            detail: "no column '\(name)' (columns: \(columns))")
    }

    public var description: String {
        if let element { return "\(file): \(element): \(detail)" }
        return "\(file): \(detail)"
    }
}
