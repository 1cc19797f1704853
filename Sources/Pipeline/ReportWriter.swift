import Crypto
import Foundation
import Reports

/// Writes a run's `results.csv`, `table.csv` and `report.md` into the spec's report folder, each
/// through a temporary file renamed into place.
public enum ReportWriter {
    /// The report folder: relative `report.out` paths start at the pipeline file's folder.
    public static func folder(_ spec: PipelineSpec, pipelineFile: String) -> URL {
        let out = spec.report.out
        if out.hasPrefix("/") { return URL(fileURLWithPath: out) }
        return URL(fileURLWithPath: pipelineFile).deletingLastPathComponent().appendingPathComponent(out).standardizedFileURL
    }

    public static func rows(_ evaluations: [EvaluationRecord]) -> [ResultRow] {
        evaluations.flatMap { evaluation in
            evaluation.metrics.keys.sorted().map { metric in
                ResultRow(drug: evaluation.drug, components: evaluation.components, method: evaluation.method,
                          seed: evaluation.seed, metric: metric, value: evaluation.metrics[metric] ?? .nan,
                          converged: evaluation.converged, seconds: evaluation.seconds)
            }
        }
    }

    /// Returns the folder written.
    @discardableResult
    public static func write(spec: PipelineSpec, pipelineFile: String, plan: Plan, evaluations: [EvaluationRecord],
                             failures: [(task: String, message: String)], wallSeconds: Double) throws -> URL {
        let report = ResultsReport(rows: rows(evaluations), drugs: plan.drugs, components: spec.pcaComponents.map(\.value),
                                   methods: spec.methods.map(\.name), metrics: spec.evaluate.metrics.map(\.rawValue))
        let digest = (try? Data(contentsOf: URL(fileURLWithPath: pipelineFile)))
            .map { SHA256.hash(data: $0).map { String(format: "%02x", $0) }.joined() } ?? "unknown"
        let metadata = MarkdownReport.Metadata(
            pipelineName: spec.name, pipelineDigest: digest, version: perturbotVersion,
            date: ISO8601DateFormatter().string(from: Date()), wallSeconds: wallSeconds)
        let folder = folder(spec, pipelineFile: pipelineFile)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var files: [(String, String)] = []
        if spec.report.formats.contains(.csv) {
            files.append(("results.csv", report.resultsCSV()))
            files.append(("table.csv", report.tableCSV()))
        }
        if spec.report.formats.contains(.markdown) {
            files.append(("report.md", MarkdownReport(report: report, metadata: metadata, failures: failures).render()))
        }
        for (name, text) in files { try writeAtomically(text, to: folder.appendingPathComponent(name)) }
        return folder
    }

    static func writeAtomically(_ text: String, to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        try Data(text.utf8).write(to: temporary)
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw PipelineError.cache("cannot write \(url.path): \(String(cString: strerror(errno)))")
        }
    }
}

/// The version reports record.
public let perturbotVersion = "0.1.0"
