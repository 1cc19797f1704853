import AnnData
import ArgumentParser
import Foundation
import Pipeline

/// `perturbot export snakemake FILE -o Snakefile`: the pipeline's task graph for Snakemake.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a pipeline's task graph to another workflow engine.", subcommands: [Snakemake.self])

    struct Snakemake: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a Snakefile: one rule per stage (wildcards drug, d, seed, method), each job a `perturbot run-task`, and a report rule.")

        @Argument(help: "The pipeline YAML file.")
        var file: String

        @Option(name: [.short, .customLong("output")], help: "The Snakefile to write.")
        var output: String = "Snakefile"

        @Option(parsing: .unconditional, help: "Cache folder the jobs share (default: .perturbot-cache next to the pipeline file).")
        var cache: String?

        func run() throws {
            try reportingErrors {
                let pipeline = URL(fileURLWithPath: file).standardizedFileURL.path
                let tasks: [(id: String, inputs: [String])]
                let cacheRoot: URL
                let reportFolder: URL
                let formats: Set<PipelineSpec.ReportFormat>
                if InverseOTExperiment.declares(file: file) {
                    let (spec, planned, taskCache) = try preparing { try InverseOTExperiment.prepare(file: file, cacheDirectory: cache) }
                    tasks = planned.map { ($0.id, []) }
                    cacheRoot = taskCache.root
                    reportFolder = InverseOTReportWriter.folder(spec, pipelineFile: file)
                    formats = Set(spec.report.formats)
                } else {
                    let (spec, plan, taskCache, _) = try preparing { try Runner.prepare(file: file, cacheDirectory: cache) }
                    tasks = plan.tasks.map { ($0.id, $0.inputs) }
                    cacheRoot = taskCache.root
                    reportFolder = ReportWriter.folder(spec, pipelineFile: file)
                    formats = Set(spec.report.formats)
                }
                let target = reportFolder.appendingPathComponent(formats.contains(.csv) ? "table.csv" : "report.md").path
                let text = SnakemakeExport.snakefile(
                    pipelineFile: pipeline, cacheRoot: cacheRoot.standardizedFileURL.path, perturbot: ExternalCommand.currentExecutable,
                    tasks: tasks, reportTarget: target, source: pipeline)
                try AtomicFile.write(Data(text.utf8), to: output)
                print("\(output): \(tasks.count) task(s); run it with: snakemake -s \(output) --cores 2")
            }
        }
    }
}
