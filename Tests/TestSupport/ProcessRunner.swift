import Foundation

/// Runs a program to completion and captures what it printed.
public struct ProcessResult {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

public enum ProcessRunner {
    /// Runs `executable` with `arguments`; `executable` without a slash is looked up on PATH.
    public static func run(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
        let process = Process()
        if executable.contains("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes before waiting so a chatty child cannot block on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus,
                             stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }

    /// The Python that has anndata (CI sets PERTURBOT_PYTHON to its venv), if any.
    /// When none is usable and CI=true, the caller must fail rather than skip.
    public static func pythonWithAnndata() -> String? {
        let candidate = ProcessInfo.processInfo.environment["PERTURBOT_PYTHON"] ?? "python3"
        guard let result = try? run(candidate, ["-c", "import anndata"]), result.status == 0 else { return nil }
        return candidate
    }

    /// The Python that has scanpy (CI's venv, PERTURBOT_PYTHON), if any; found without importing it.
    public static func pythonWithScanpy() -> String? {
        let candidate = ProcessInfo.processInfo.environment["PERTURBOT_PYTHON"] ?? "python3"
        let check = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('scanpy') else 1)"
        guard let result = try? run(candidate, ["-c", check]), result.status == 0 else { return nil }
        return candidate
    }

    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// `scripts/fixtures/h5ad_worker.py`, found from this source file's location.
    public static let h5adWorker: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/fixtures/h5ad_worker.py").path
}
