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
                let experiment = try preparing { try Experiments.load(file: file, cacheDirectory: cache) }
                let tasks = experiment.tasks.map { (id: $0.id, inputs: $0.inputs) }
                let cacheRoot = experiment.cache.root
                let target = experiment.reportTarget.path
                let text = SnakemakeExport.snakefile(
                    pipelineFile: pipeline, cacheRoot: cacheRoot.standardizedFileURL.path, perturbot: ExternalCommand.currentExecutable,
                    tasks: tasks, reportTarget: target, source: pipeline)
                try AtomicFile.write(Data(text.utf8), to: output)
                print("\(output): \(tasks.count) task(s); run it with: snakemake -s \(output) --cores 2")
            }
        }
    }
}
