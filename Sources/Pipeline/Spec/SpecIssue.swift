/// One problem found in a pipeline file.
public struct SpecIssue: Sendable, Equatable, CustomStringConvertible {
    public let location: SourceLocation?
    public let message: String

    public init(_ message: String, at location: SourceLocation?) {
        self.location = location
        self.message = message
    }

    public var description: String {
        location.map { "\($0): \(message)" } ?? message
    }
}

/// Every problem found in a pipeline file, one per line as `FILE:LINE:COLUMN: message`.
public struct PipelineSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let issues: [SpecIssue]

    public init(file: String, issues: [SpecIssue]) {
        self.file = file
        self.issues = issues
    }

    public var lines: [String] {
        issues.map { issue in
            issue.location.map { "\(file):\($0.line):\($0.column): \(issue.message)" } ?? "\(file): \(issue.message)"
        }
    }

    public var description: String { lines.joined(separator: "\n") }
}
