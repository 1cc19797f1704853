import AnnData
import ArgumentParser
import Foundation
import Stages

/// `perturbot generate`: synthetic datasets for demos and tests.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a synthetic dataset.", subcommands: [FourILike.self])
}

/// `perturbot generate 4i-like --out FILE`.
struct FourILike: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "4i-like",
        abstract: "A 4i-shaped .h5ad: 48 marker features, obs 'drug' (control + 5 drugs), each drug a non-linear displacement of 6 features.")

    @Option(help: "Where to write the .h5ad.")
    var out: String

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    @Option(help: "Number of control cells.")
    var controlCells = 1500

    @Option(help: "Number of cells per drug.")
    var cellsPerDrug = 600

    func run() throws {
        try reportingErrors {
            let data = try DemoDataset.make(.init(seed: seed, controlCells: controlCells, cellsPerDrug: cellsPerDrug))
            try AnnDataWriter.write(data, to: out)
            print("\(out): \(data.nObs) cells × \(data.nVars) features, drugs: \(DemoDataset.drugs.joined(separator: ", "))")
        }
    }
}
