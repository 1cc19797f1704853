import AnnData
import ArgumentParser
import Datasets
import Foundation
import LinearAlgebra
import Stages

/// `perturbot generate`: synthetic datasets for demos and tests.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a synthetic dataset.", subcommands: [FourILike.self, ScRNALike.self, ScRNASparse.self, Screen.self, MapBenchmark.self, IOTGraph.self])
}

/// `perturbot generate 4i-like --out FILE`.
struct FourILike: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "4i-like",
        abstract: "A 4i-shaped .h5ad: 48 marker features, obs 'drug' (control + 5 drugs), each drug a non-linear displacement of 6 features.")

    @Option(parsing: .unconditional, help: "Where to write the .h5ad.")
    var out: String

    @Option(parsing: .unconditional, help: "Random seed.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Number of control cells.")
    var controlCells = 1500

    @Option(parsing: .unconditional, help: "Number of cells per drug.")
    var cellsPerDrug = 600

    @OptionGroup var mass: MassChangeArguments

    func run() throws {
        try reportingErrors {
            let changes = try mass.changes()
            let data = try DemoDataset.make(.init(seed: seed, controlCells: controlCells, cellsPerDrug: cellsPerDrug, massChanges: changes))
            try AnnDataWriter.write(data, to: out)
            print("\(out): \(data.nObs) cells × \(data.nVars) features, drugs: \(DemoDataset.drugs.joined(separator: ", "))")
        }
    }

}

/// `perturbot generate screen --out FILE`: a sci-Plex-3-shaped screen (`ScreenDataset`).
struct Screen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A sci-Plex-3-shaped screen: raw counts in CSR X, obs 'cell_line', 'drug' ('vehicle' for controls), 'dose' (0 for vehicle) and 'cell_state'; each drug a gene program whose effect follows a Hill curve in dose, scaled per cell line, some killing a share of one state; the truth in uns 'perturbot_screen'.")

    @Option(parsing: .unconditional, help: "Where to write the .h5ad.")
    var out: String

    @Option(parsing: .unconditional, help: "Number of cell lines (A549, K562, MCF7, line4, …).")
    var cellLines = ScreenDataset.Options().cellLines

    @Option(parsing: .unconditional, help: "Number of drugs.")
    var drugs = ScreenDataset.Options().drugs

    @Option(parsing: .unconditional, help: "Number of doses (10, 100, 1000, … ).")
    var doses = ScreenDataset.Options().doses

    @Option(parsing: .unconditional, help: "Cells per (cell line, drug, dose).")
    var cellsPerCondition = ScreenDataset.Options().cellsPerCondition

    @Option(parsing: .unconditional, help: "Vehicle cells per cell line.")
    var controlCellsPerLine = ScreenDataset.Options().controlCellsPerLine

    @Option(parsing: .unconditional, help: "Number of genes (at least \(ScRNALikeDataset.minimumGenes)).")
    var genes = ScreenDataset.Options().genes

    @Option(parsing: .unconditional, help: "Random seed.")
    var seed: UInt64 = 0

    func run() throws {
        try reportingErrors {
            let options = ScreenDataset.Options(seed: seed, cellLines: cellLines, drugs: drugs, doses: doses,
                                                cellsPerCondition: cellsPerCondition, controlCellsPerLine: controlCellsPerLine, genes: genes)
            let data = try ScreenDataset.make(options)
            try AnnDataWriter.write(data, to: out)
            print("\(out): \(data.nObs) cells × \(data.nVars) genes, \(cellLines) cell line(s) × \(drugs) drug(s) × \(doses) dose(s)")
        }
    }
}

/// `perturbot generate scrna-like --out FILE`: sci-Plex-shaped raw counts (`ScRNALikeDataset`).
struct ScRNALike: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scrna-like",
        abstract: "A sci-Plex-shaped .h5ad: raw negative-binomial counts in CSR X, obs 'drug' (control + belinostat, dacinostat, givinostat, hesperadin, quisinostat), each drug a cell-state-dependent change of its own gene program.")

    @Option(parsing: .unconditional, help: "Where to write the .h5ad.")
    var out: String

    @Option(parsing: .unconditional, help: "Random seed.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Number of genes (at least \(ScRNALikeDataset.minimumGenes)).")
    var genes = ScRNALikeDataset.Options().genes

    @Option(parsing: .unconditional, help: "Number of control cells.")
    var controlCells = ScRNALikeDataset.Options().controlCells

    @Option(parsing: .unconditional, help: "Number of cells per drug.")
    var cellsPerDrug = ScRNALikeDataset.Options().cellsPerDrug

    @OptionGroup var mass: MassChangeArguments

    func run() throws {
        try reportingErrors {
            let data = try ScRNALikeDataset.make(.init(seed: seed, genes: genes, controlCells: controlCells,
                                                       cellsPerDrug: cellsPerDrug, massChanges: try mass.changes()))
            try AnnDataWriter.write(data, to: out)
            let stored = data.X.map { x -> Int in if case .sparse(let s) = x { return s.nonzeroCount } else { return 0 } } ?? 0
            let percent = 100 * Double(stored) / Double(max(1, data.nObs * data.nVars))
            print("\(out): \(data.nObs) cells × \(data.nVars) genes, \(stored) non-zero counts (\(String(format: "%.1f", percent)) %), drugs: \(ScRNALikeDataset.drugs.joined(separator: ", "))")
        }
    }
}

/// `perturbot generate scrna-sparse --out FILE`: the displacement-sparse ICNN paper's synthetic
/// sc-RNA task (`ScRNASparseDataset`).
struct ScRNASparse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scrna-sparse",
        abstract: "The displacement-sparse ICNN paper's synthetic sc-RNA task: control genes U[0,1); treated = control + U[0,1)·shift on k genes + U[0,1) noise on other drawn genes; obs 'condition' (control, treated), obsm 'true_map' (each control cell's treated copy).")

    @Option(parsing: .unconditional, help: "Where to write the .h5ad.")
    var out: String

    @Option(parsing: .unconditional, help: "Random seed.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Number of cells n (each written as control and treated).")
    var cells = ScRNASparseDataset.Options().cells

    @Option(parsing: .unconditional, help: "Number of genes G.")
    var genes = ScRNASparseDataset.Options().genes

    @Option(parsing: .unconditional, help: "Genes the treatment moves, k.")
    var perturbedGenes = ScRNASparseDataset.Options().perturbedGenes

    @Option(parsing: .unconditional, help: "Genes that get U[0,1) noise (drawn independently of the k).")
    var noiseGenes = ScRNASparseDataset.Options().noiseGenes

    @Option(parsing: .unconditional, help: "The k genes rise by U[0,1) × this.")
    var shift = ScRNASparseDataset.Options().shift

    func run() throws {
        try reportingErrors {
            let options = ScRNASparseDataset.Options(seed: seed, cells: cells, genes: genes, perturbedGenes: perturbedGenes,
                                                     noiseGenes: noiseGenes, shift: shift)
            let data = try ScRNASparseDataset.make(options)
            try AnnDataWriter.write(data, to: out)
            print("\(out): \(cells) control + \(cells) treated cells × \(genes) genes, \(perturbedGenes) perturbed genes, \(noiseGenes) noise genes")
        }
    }
}

/// `perturbot generate map-benchmark --dim D [--dim D2 …] --seed S --out FILE`.
struct MapBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "map-benchmark",
        abstract: "The ProgOT paper's GMM map benchmark (its Table 5), rebuilt: per dimension D, source cells from a mixture of 3 Gaussians and target cells ∇φ(z) of fresh samples z, φ a known strongly convex ICNN potential.",
        discussion: """
            Writes obs 'condition' (source, target) and, per D, obsm 'gmm_d<D>' (the points) and \
            'true_map_d<D>' (∇φ of each row; meaningful on the source rows only). Each D is an \
            independent problem that depends only on (seed, D). Prints, per D and over the source \
            cells, the total variance of x and of T₀(x), and E‖T₀(x) − x‖² (the identity's map_mse).
            """)

    @Option(name: .customLong("dim"), help: "A dimension D (repeat for several).")
    var dimensions: [Int]

    @Option(parsing: .unconditional, help: "Random seed.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Where to write the .h5ad.")
    var out: String

    @Option(parsing: .unconditional, help: "Number of source cells.")
    var sourceCells = 2500

    @Option(parsing: .unconditional, help: "Number of target cells.")
    var targetCells = 2500

    func run() throws {
        try reportingErrors {
            let options = MapBenchmarkDataset.Options(dimensions: dimensions, seed: seed, sourceCells: sourceCells, targetCells: targetCells)
            let data = try MapBenchmarkDataset.make(options)
            try AnnDataWriter.write(data, to: out)
            print("\(out): \(sourceCells) source + \(targetCells) target cells, obs '\(MapBenchmarkDataset.conditionKey)', seed \(seed)")
            let source = Array(0..<sourceCells)
            for d in dimensions {
                guard let points = data.obsm[MapBenchmarkDataset.featuresKey(d)]?.rows(at: source),
                      let images = data.obsm[MapBenchmarkDataset.trueMapKey(d)]?.rows(at: source) else { continue }
                let displacement = try Metrics.mapMSE(predicted: points, truth: images)
                print(String(format: "d = %d: obsm %@, %@; Var x = %.1f, Var T0(x) = %.1f, E|T0(x) - x|^2 = %.1f",
                             d, MapBenchmarkDataset.featuresKey(d), MapBenchmarkDataset.trueMapKey(d),
                             Metrics.totalVariance(points), Metrics.totalVariance(images), displacement))
            }
        }
    }
}

/// `perturbot generate iot-graph --nodes N --graph G --delta δ --epsilon ε --pairs n --seed S --out FILE`.
struct IOTGraph: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iot-graph",
        abstract: "Observed pairs for inverse OT (seed 004's graph experiment): A* = δI + diag(G1) − G for a graph G, and pairs from the entropic coupling of N(0, I) with N(0, I) under c(x, y) = −xᵀA*y.",
        discussion: """
            The pairs are exact draws (the coupling is Gaussian in closed form: cross-covariance \
            U·diag(b)·Vᵀ for A* = U·diag(s)·Vᵀ, b/(1 − b²) = s/ε; no Sinkhorn). --out .h5ad writes X = \
            [x y], obsm 'x' and 'y' and uns 'iot_graph' (the settings); --out .csv writes one pair per \
            row, x then y. A* goes to --truth-out (default: next to --out, <stem>.A_star.csv). \
            Graphs: circular (the cycle), erdos_renyi (edge probability 3/(N − 1), from the seed), \
            planar (the ⌈√N⌉-column grid).
            """)

    @Option(parsing: .unconditional, help: "Number of graph nodes N (x and y have N coordinates).")
    var nodes = IOTGraphDataset.Options().nodes

    @Option(parsing: .unconditional, help: "circular, erdos_renyi or planar.")
    var graph: IOTGraphDataset.Graph = .circular

    @Option(parsing: .unconditional, help: "δ > 0 of A* = δI + diag(G1) − G.")
    var delta = IOTGraphDataset.Options().delta

    @Option(parsing: .unconditional, help: "Entropic regularisation ε of the coupling.")
    var epsilon = IOTGraphDataset.Options().epsilon

    @Option(parsing: .unconditional, help: "Number of observed pairs n.")
    var pairs = IOTGraphDataset.Options().pairs

    @Option(parsing: .unconditional, help: "Random seed.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Where to write the pairs: .h5ad or .csv.")
    var out: String

    @Option(parsing: .unconditional, help: "Where to write A* as CSV (default <stem of --out>.A_star.csv).")
    var truthOut: String?

    func run() throws {
        try reportingErrors {
            let options = IOTGraphDataset.Options(nodes: nodes, graph: graph, delta: delta, epsilon: epsilon, pairs: pairs, seed: seed)
            let (truth, x, y) = try IOTGraphDataset.make(options)
            let truthPath = truthOut ?? (URL(fileURLWithPath: out).deletingPathExtension().path + ".A_star.csv")
            let joined = Matrix<Double>(rows: pairs, cols: 2 * nodes) { i, j in j < nodes ? x[i, j] : y[i, j - nodes] }
            if out.lowercased().hasSuffix(".h5ad") {
                var variables = DataFrame(index: (1...nodes).map { "x\($0)" } + (1...nodes).map { "y\($0)" })
                try variables.setColumn("half", .categorical(Categorical(values: (0..<(2 * nodes)).map { $0 < nodes ? "x" : "y" })))
                let data = AnnData<Double>(
                    X: .dense(joined), obs: DataFrame(index: (0..<pairs).map { "pair\($0)" }), var: variables,
                    obsm: ["x": x, "y": y],
                    uns: ["iot_graph": .dictionary([
                        "graph": .string(graph.rawValue), "nodes": .integer(Int64(nodes)), "delta": .double(delta),
                        "epsilon": .double(epsilon), "seed": .integer(Int64(bitPattern: seed)), "truth": .string(truthPath),
                    ])])
                try AnnDataWriter.write(data, to: out)
            } else {
                try PointCloudFile.writeCSV(joined, to: out)
            }
            try PointCloudFile.writeCSV(truth, to: truthPath)
            let edges = truth.storage.enumerated().filter { $0.element != 0 && $0.offset / nodes < $0.offset % nodes }.count
            print("\(out): \(pairs) pairs (x, y in R^\(nodes)) from the ε = \(epsilon) coupling of the \(graph.rawValue) graph's A* (\(edges) edges, δ \(delta)); A* in \(truthPath)")
        }
    }
}

extension IOTGraphDataset.Graph: ExpressibleByArgument {}

/// The --death and --growth options of `generate 4i-like` and `generate scrna-like`: a drug that
/// kills a share of one cell state's cells, or makes them multiply (`MassChange`; obs
/// `cell_state` and the truth in uns, `mass`).
struct MassChangeArguments: ParsableArguments {
    @Option(parsing: .singleValue, help: ArgumentHelp(
        "A drug kills this fraction of one state's cells (repeatable), e.g. DRUG:state1:0.8; the truth goes to uns (…/mass).",
        valueName: "DRUG:STATE:FRACTION"))
    var death: [String] = []

    @Option(parsing: .singleValue, help: ArgumentHelp(
        "A drug makes one state's cells multiply by this factor (repeatable), e.g. DRUG:state3:2.",
        valueName: "DRUG:STATE:FACTOR"))
    var growth: [String] = []

    /// Each DRUG:STATE:NUMBER; a death fraction f in [0, 1] becomes the factor 1 − f.
    func changes() throws -> [MassChange] {
        func change(_ text: String, flag: String, death: Bool) throws -> MassChange {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, let number = Double(parts[2]) else {
                throw CommandError("\(flag) '\(text)': expected DRUG:STATE:\(death ? "FRACTION" : "FACTOR"), e.g. cisplatin:state1:\(death ? "0.8" : "2")")
            }
            if death {
                guard number >= 0, number <= 1 else { throw CommandError("\(flag) '\(text)': the fraction killed must be in [0, 1]") }
                return MassChange(drug: parts[0], state: parts[1], factor: 1 - number)
            }
            guard number > 0, number.isFinite else { throw CommandError("\(flag) '\(text)': the growth factor must be > 0") }
            return MassChange(drug: parts[0], state: parts[1], factor: number)
        }
        return try death.map { try change($0, flag: "--death", death: true) } + growth.map { try change($0, flag: "--growth", death: false) }
    }
}
