import Reports

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

    /// At most this many problems are printed; the rest are counted on one more line (a
    /// generated file with a million bad entries gets 21 lines, not a million).
    public static let shownIssues = 20

    public var lines: [String] {
        let shown = issues.prefix(Self.shownIssues).map { issue in
            issue.location.map { "\(file):\($0.line):\($0.column): \(issue.message)" } ?? "\(file): \(issue.message)"
        }
        guard issues.count > Self.shownIssues else { return shown }
        return shown + ["\(file): … and \((issues.count - Self.shownIssues).grouped) more problems (fix the ones above first)"]
    }

    public var description: String { lines.joined(separator: "\n") }
}
