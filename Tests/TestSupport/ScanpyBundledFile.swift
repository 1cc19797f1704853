import Foundation

/// scanpy's bundled `datasets/10x_pbmc68k_reduced.h5ad` (anndata 0.6 layout, 700 cells × 765
/// genes), found in the Python that CI installs scanpy into (PERTURBOT_PYTHON), or at
/// PERTURBOT_PBMC68K. The file is not committed; its anndata description is.
public enum ScanpyBundledFile {
    public static let skipReason = "scanpy's bundled pbmc68k_reduced file not found (install scanpy into PERTURBOT_PYTHON's venv or set PERTURBOT_PBMC68K)"

    /// The file's path, or nil when neither source has it.
    public static func pbmc68kReduced() -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["PERTURBOT_PBMC68K"] {
            return FileManager.default.fileExists(atPath: path) ? path : nil
        }
        let python = environment["PERTURBOT_PYTHON"] ?? "python3"
        // find_spec locates the package without importing it (importing scanpy takes seconds).
        let locate = "import importlib.util as u; s = u.find_spec('scanpy'); print(s.submodule_search_locations[0] if s else '')"
        guard let result = try? ProcessRunner.run(python, ["-c", locate]), result.status == 0 else { return nil }
        let folder = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !folder.isEmpty else { return nil }
        let path = URL(fileURLWithPath: folder).appendingPathComponent("datasets/10x_pbmc68k_reduced.h5ad").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// Tests/Fixtures/scanpy/pbmc68k_reduced.json: what anndata reports for the file.
    public static func expectation() throws -> [String: Any] {
        let url = TestPaths.h5adFixtures.deletingLastPathComponent().appendingPathComponent("scanpy/pbmc68k_reduced.json")
        guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return object
    }
}
