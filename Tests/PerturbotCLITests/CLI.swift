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
        assertError(try run(arguments), "\(arguments)", status: 1, lines: 1, fragments, file: file, line: line)
    }

    /// An error's shape: `status`, nothing on stdout, `lines` stderr lines of which the first
    /// starts `perturbot: error: `, and every fragment somewhere in stderr.
    static func assertError(_ result: ProcessResult, _ name: String, status: Int32, lines: Int, _ fragments: [String],
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, status, "\(name): \(result.stderr)", file: file, line: line)
        XCTAssertEqual(result.stdout, "", name, file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n", omittingEmptySubsequences: true).count, lines,
                       "\(name): \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("perturbot: error: "), "\(name): \(result.stderr)", file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(result.stderr.contains(fragment), "\(name): '\(fragment)' not in: \(result.stderr)", file: file, line: line)
        }
    }
}

extension CLI {
    /// A bad flag or flag value: exit status 64 (swift-argument-parser's, sysexits' EX_USAGE),
    /// nothing on stdout, the `perturbot: error:` line with every fragment, then one hint line
    /// `see 'perturbot <command> --help'`.
    static func assertFlagError(_ arguments: [String], _ fragments: [String], help command: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try run(arguments)
        assertError(result, "\(arguments)", status: 64, lines: 2, [], file: file, line: line)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        XCTAssertEqual(lines.last.map(String.init), "see 'perturbot \(command) --help'", file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(lines.first?.contains(fragment) ?? false, "'\(fragment)' not in: \(result.stderr)", file: file, line: line)
        }
    }

    /// The snakemake that CI installs and names in PERTURBOT_SNAKEMAKE. Elsewhere its absence
    /// skips the test; on CI it is a failure (and nil is returned).
    static func snakemake(file: StaticString = #filePath, line: UInt = #line) throws -> String? {
        if let snakemake = ProcessInfo.processInfo.environment["PERTURBOT_SNAKEMAKE"],
           FileManager.default.isExecutableFile(atPath: snakemake) {
            return snakemake
        }
        if ProcessRunner.isCI {
            XCTFail("CI=true but no snakemake (set PERTURBOT_SNAKEMAKE)", file: file, line: line)
            return nil
        }
        throw XCTSkip("snakemake not available; set PERTURBOT_SNAKEMAKE to its executable")
    }

    /// A generated 4i-like dataset (`demo.h5ad`) and a pipeline `<name>.yaml` on it in `folder`,
    /// with 2 seeds and its report in `reports/<name>`; `methods` is the YAML of the methods map.
    static func smallPipeline(
        in folder: URL, name: String, drugs: [String], components: [Int], methods: [String],
        controlCells: Int, drugCells: Int, dataSeed: Int
    ) throws -> String {
        let data = folder.appendingPathComponent("demo.h5ad").path
        let generated = try run(["generate", "4i-like", "--out", data, "--control-cells", "\(controlCells)",
                                 "--cells-per-drug", "\(drugCells)", "--seed", "\(dataSeed)"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let file = folder.appendingPathComponent("\(name).yaml").path
        try Data("""
            name: \(name)
            data: { path: demo.h5ad, condition_key: drug, control: control }
            drugs: [\(drugs.joined(separator: ", "))]
            pca: { components: [\(components.map(String.init).joined(separator: ", "))] }
            split: { test_fraction: 0.25, seeds: [0, 1] }
            methods:
            \(methods.map { "  " + $0 }.joined(separator: "\n"))
            report: { out: reports/\(name) }
            """.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }
}
