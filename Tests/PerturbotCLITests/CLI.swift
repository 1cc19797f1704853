import Foundation
import TestSupport
import XCTest

/// Runs the built `perturbot` binary, as a user would.
enum CLI {
    /// The test bundle sits in the build products directory beside the `perturbot` executable.
    static var path: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("perturbot").path
    }

    static func run(_ arguments: [String]) throws -> ProcessResult {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: path), "no binary at \(path)")
        return try ProcessRunner.run(path, arguments)
    }

    /// Bad input: exit status 1, nothing on stdout, one `perturbot: error:` line on stderr that
    /// contains every fragment (the file and what is wrong).
    static func assertOneLineError(_ arguments: [String], _ fragments: [String],
                                   file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try run(arguments)
        XCTAssertEqual(result.status, 1, "\(arguments)", file: file, line: line)
        XCTAssertEqual(result.stdout, "", "\(arguments)", file: file, line: line)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        XCTAssertEqual(lines.count, 1, "\(arguments): \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("perturbot: error: "), result.stderr, file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(result.stderr.contains(fragment), "'\(fragment)' not in: \(result.stderr)", file: file, line: line)
        }
    }
}
