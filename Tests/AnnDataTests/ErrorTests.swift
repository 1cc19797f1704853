import AnnData
import Foundation
import TestSupport
import XCTest

/// Each bad input gives an `AnnDataError` of the right kind whose one-line message names the
/// file and, where there is one, the element.
final class ErrorTests: XCTestCase {
    private func assertError(
        _ kind: AnnDataError.Kind, file: String, messageContains fragments: [String],
        _ body: () throws -> Void, line: UInt = #line
    ) {
        XCTAssertThrowsError(try body(), line: line) { error in
            guard let error = error as? AnnDataError else {
                return XCTFail("not an AnnDataError: \(error)", line: line)
            }
            XCTAssertEqual(error.kind, kind, line: line)
            XCTAssertEqual(error.file, file, line: line)
            XCTAssertFalse(error.description.contains("\n"), "message spans lines: \(error)", line: line)
            XCTAssertTrue(error.description.hasPrefix(file), "\(error)", line: line)
            for fragment in fragments {
                XCTAssertTrue(error.description.contains(fragment), "'\(fragment)' not in: \(error)", line: line)
            }
        }
    }

    func testMissingPath() {
        let path = "/nonexistent/dir/cells.h5ad"
        assertError(.fileNotFound, file: path, messageContains: ["no such file"]) {
            _ = try AnnDataReader.read(path)
        }
    }

    func testNotAnHDF5File() throws {
        let directory = try TestPaths.scratchDirectory()
        let path = directory.appendingPathComponent("cells.h5ad").path
        try Data("obs,drug\ncell_0,control\n".utf8).write(to: URL(fileURLWithPath: path))
        assertError(.notHDF5, file: path, messageContains: ["not an HDF5 file"]) {
            _ = try AnnDataSummary.read(path)
        }
    }

    func testTruncatedFile() throws {
        let directory = try TestPaths.scratchDirectory()
        let path = try TestPaths.truncatedCopy(of: "dense_f32", fraction: 0.5, in: directory)
        assertError(.corrupt, file: path, messageContains: ["truncated", "HDF5:"]) {
            _ = try AnnDataReader.read(path)
        }
    }

    func testXMissing() {
        let path = TestPaths.fixture("no_x")
        assertError(.missingElement, file: path, messageContains: [": X:", "missing"]) {
            _ = try AnnDataReader.read(path)
        }
        XCTAssertNoThrow(try AnnDataReader.read(path, requireX: false))
    }

    func testObsColumnMissing() throws {
        let path = TestPaths.fixture("dense_f32")
        let data = try AnnDataReader.read(path)
        assertError(.missingObsColumn, file: path, messageContains: ["obs", "'condition'", "drug, well"]) {
            _ = try data.obsColumn("condition")
        }
    }

    func testUnsupportedEncoding() {
        let path = TestPaths.fixture("unsupported_encoding")
        assertError(.unsupportedEncoding, file: path, messageContains: [": X:", "'coo_matrix'", "csr_matrix"]) {
            _ = try AnnDataReader.read(path)
        }
    }
}
