import Foundation
import TestSupport
import XCTest

/// The layering of shared/DESIGN.md, checked on the sources: the pipeline machinery knows no
/// solver, the command line builds no estimator, each stage is a file of Stages.
final class ArchitectureTests: XCTestCase {
    private let solverModules = ["Transport", "NeuralTransport", "InverseTransport"]

    private func sources(under folder: String) throws -> [(path: String, text: String)] {
        let root = TestPaths.repository.appendingPathComponent(folder)
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" } ?? []
        XCTAssertFalse(files.isEmpty, folder)
        return try files.map { ($0.path, try String(contentsOf: $0, encoding: .utf8)) }
    }

    func testPipelineImportsNoSolverModule() throws {
        for (path, text) in try sources(under: "Sources/Pipeline") {
            for module in solverModules {
                XCTAssertFalse(text.contains("\nimport \(module)\n") || text.hasPrefix("import \(module)\n"), "\(path) imports \(module)")
            }
        }
        let manifest = try String(contentsOf: TestPaths.repository.appendingPathComponent("Package.swift"), encoding: .utf8)
        let start = try XCTUnwrap(manifest.range(of: "name: \"Pipeline\","))
        let end = try XCTUnwrap(manifest.range(of: "),", range: start.upperBound..<manifest.endIndex))
        let dependencies = manifest[start.upperBound..<end.lowerBound]
        for module in solverModules { XCTAssertFalse(dependencies.contains("\"\(module)\""), "Pipeline depends on \(module)") }
    }

    func testTheCommandLineConstructsNoEstimatorAndBranchesOnNoExperimentKind() throws {
        let construction = try NSRegularExpression(pattern: #"\b[A-Z][A-Za-z]*Estimator(\(|\.init\b)"#)
        for (path, text) in try sources(under: "Sources/perturbot") {
            let range = NSRange(text.startIndex..., in: text)
            XCTAssertNil(construction.firstMatch(in: text, range: range), "\(path) constructs an estimator")
            XCTAssertFalse(text.contains("declares("), path)
        }
    }

    func testSolveAndEvaluateAreStages() {
        for stage in ["Load", "PCA", "Split", "Solve", "Evaluate"] {
            let path = TestPaths.repository.appendingPathComponent("Sources/Stages/\(stage).swift").path
            XCTAssertTrue(FileManager.default.fileExists(atPath: path), path)
        }
    }
}
