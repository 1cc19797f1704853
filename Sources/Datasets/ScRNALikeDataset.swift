import AnnData
import Foundation
import LinearAlgebra

/// A synthetic sc-RNA dataset shaped like sci-Plex 3 (Srivatsan et al. 2020), the data of the
/// ProgOT paper's Table 1: raw UMI-like counts of `genes` genes for control cells and for cells
/// treated with that table's five drugs.
///
/// The model, per cell i and gene g:
/// - a cell state: one of three discrete states (proportions 0.5, 0.3, 0.2) plus a continuous
///   position around the state's centre, z_i ∈ ℝ⁸ (factor scales 0.85^f), so log expression
///   is low rank: η_ig = b_g + W_g · z_i, with log baseline abundances b_g ~ N(0, 2²) (mean
///   expression spans about three orders of magnitude) and sparse loadings W (each gene loads
///   on each factor with probability 0.3, N(0, 0.5²)); state centres are 1.2·s_f·N(0, 1) and
///   cells scatter around them by 0.6·s_f·N(0, 1) per factor f of scale s_f;
/// - a library size L_i = 1000 · exp(0.45 · N(0, 1)) (log-normal, median 1000 counts);
/// - the mean count μ_ig = L_i · exp(η_ig) / Σ_h exp(η_ih) · exp(δ_ig), where δ_ig is the
///   drug's log fold change (0 for control cells and for genes outside the drug's program),
///   so genes outside a program keep their control counts;
/// - the count: Gamma–Poisson (negative binomial) with a gene-wise dispersion
///   φ_g = exp(N(log 0.25, 0.5²)) ∈ [0.02, 3]: λ ~ Gamma(1/φ_g, μ_ig φ_g), count ~ Poisson(λ),
///   so that Var = μ + φ_g μ² and most entries are zero.
///
/// Each drug acts on its own program of genes (`effects`: its size as a fraction of the genes,
/// its typical |log fold change|, the fraction of up-regulated genes). The response is
/// cell-state dependent, so that no translation explains a drug: on 75 % of the program the log
/// fold change is scaled per cell by 1 + ρ·tanh(v · z_i / σ) (a drug-specific axis v of the cell
/// state), and the other 25 % respond only in the drug's sensitive state (×1.8 there, ×0.2
/// elsewhere). Treated cells are fresh draws from the control law pushed through the drug.
/// Seeded: same options, same data. At the defaults (2000 genes, 1000 control cells, 400 per
/// drug) about 16 % of X is non-zero and the .h5ad file is about 8 MB.
public enum ScRNALikeDataset {
    /// The sci-Plex drugs of the ProgOT paper's Table 1.
    public static let drugs = ["belinostat", "dacinostat", "givinostat", "hesperadin", "quisinostat"]
    /// The median library size (total counts per cell) of the control law. A pipeline on this
    /// data normalises each cell to this total before log1p (scanpy's `normalize_total` default,
    /// the median library size).
    public static let medianLibrarySize = 1000.0
    static let librarySpread = 0.45
    static let latentDimension = 8
    static let stateProportions = [0.5, 0.3, 0.2]
    static let stateSpecificFraction = 0.25

    /// How one drug acts.
    public struct DrugEffect: Sendable, Equatable {
        /// The drug's name (its label in obs `drug`).
        public let drug: String
        /// The program's size as a fraction of the genes (at least 3 genes).
        public let programFraction: Double
        /// Median |log fold change| (natural log) of the program's genes at a response of 1;
        /// each gene's is this × a uniform factor in [0.5, 1.5).
        public let strength: Double
        /// Fraction of the program's genes that go up; the others go down.
        public let upFraction: Double
        /// ρ: how much the response varies with the cell state (1 ± ρ).
        public let heterogeneity: Double
    }

    /// The five drugs' effects: programs from 1.5 % to 30 % of the genes (30 to 600 of 2000),
    /// from weak (givinostat, |LFC| ≈ 0.5) to strong (hesperadin, |LFC| ≈ 1.5 on few genes,
    /// mostly down).
    public static let effects = [
        DrugEffect(drug: "belinostat", programFraction: 0.125, strength: 0.8, upFraction: 0.7, heterogeneity: 0.6),
        DrugEffect(drug: "dacinostat", programFraction: 0.2, strength: 0.6, upFraction: 0.6, heterogeneity: 0.5),
        DrugEffect(drug: "givinostat", programFraction: 0.06, strength: 0.5, upFraction: 0.5, heterogeneity: 0.7),
        DrugEffect(drug: "hesperadin", programFraction: 0.015, strength: 1.5, upFraction: 0.2, heterogeneity: 0.8),
        DrugEffect(drug: "quisinostat", programFraction: 0.3, strength: 1.0, upFraction: 0.65, heterogeneity: 0.6),
    ]

    /// The smallest gene count the generator accepts (every program needs a few genes).
    public static let minimumGenes = 50

    /// What to generate.
    public struct Options: Sendable {
        /// Seeds both the law (programs, loadings, dispersions) and the cells.
        public var seed: UInt64
        /// Number of genes (columns of X), at least `minimumGenes`.
        public var genes: Int
        /// Number of control cells, at least 2.
        public var controlCells: Int
        /// Number of cells per drug, at least 2.
        public var cellsPerDrug: Int
        /// Death and growth by drug and state (`MassChange`); empty: every drug keeps the control
        /// law's state proportions.
        public var massChanges: [MassChange]

        public init(seed: UInt64 = 0, genes: Int = 2000, controlCells: Int = 1000, cellsPerDrug: Int = 400,
                    massChanges: [MassChange] = []) {
            self.seed = seed
            self.genes = genes
            self.controlCells = controlCells
            self.cellsPerDrug = cellsPerDrug
            self.massChanges = massChanges
        }
    }

    /// Gene names `GENE0001` … (at least four digits).
    public static func geneNames(_ count: Int) -> [String] {
        let width = max(4, String(count).count)
        return (0..<max(count, 0)).map { index in
            let digits = String(index + 1)
            return "GENE" + String(repeating: "0", count: width - digits.count) + digits
        }
    }

    /// One drug's program: its genes and their log fold changes at a response of 1.
    public struct Program: Sendable, Equatable {
        /// Gene indices, ascending.
        public let genes: [Int]
        /// Natural-log fold change of each gene in `genes` (the sign is the direction).
        public let logFoldChanges: [Double]
        /// Whether each gene in `genes` responds only in the sensitive state.
        public let stateSpecific: [Bool]
        /// The cell state in which the state-specific genes respond.
        public let sensitiveState: Int
        /// The drug-specific axis v of the cell state that scales the other genes' response.
        let responseAxis: [Double]
        /// σ: the standard deviation of v · z under the control law.
        let responseScale: Double
        let heterogeneity: Double

        /// Genes that go up (positive log fold change).
        public var upGenes: [Int] { zip(genes, logFoldChanges).filter { $0.1 > 0 }.map(\.0) }
        /// Genes that go down (negative log fold change).
        public var downGenes: [Int] { zip(genes, logFoldChanges).filter { $0.1 < 0 }.map(\.0) }
    }

    /// One cell of the control law: its discrete state and its latent position.
    public struct CellState: Sendable, Equatable {
        /// Index of the discrete state (0-based; obs `cell_state` names it `state1` …).
        public let state: Int
        /// The latent position z_i.
        public let z: [Double]
    }

    /// The law of the data, all drawn from the seed: baseline abundances, loadings, state
    /// centres, dispersions and each drug's program.
    public struct Law: Sendable {
        /// Number of genes.
        public let genes: Int
        let baseline: [Double]
        let loadings: Matrix<Double>  // genes × latent
        let centres: [[Double]]
        let factorScales: [Double]
        /// φ_g per gene: Var = μ + φ_g μ².
        public let dispersions: [Double]
        /// Each drug's program, in the order of `drugs`.
        public let programs: [Program]

        /// The law drawn from `seed` (the same law `make` uses for that seed and gene count).
        /// - Precondition: `genes >= minimumGenes` (checked by `make`).
        public init(seed: UInt64, genes: Int) {
            var rng = SeededRNG(seed: seed ^ 0x5C_12A_0001)
            self.genes = genes
            let r = ScRNALikeDataset.latentDimension
            baseline = (0..<genes).map { _ in 2.0 * rng.normal() }
            loadings = Matrix(rows: genes, cols: r) { _, _ in rng.uniform() < 0.3 ? 0.5 * rng.normal() : 0 }
            let scales = (0..<r).map { pow(0.85, Double($0)) }
            factorScales = scales
            centres = ScRNALikeDataset.stateProportions.indices.map { _ in scales.map { 1.2 * $0 * rng.normal() } }
            dispersions = (0..<genes).map { _ in min(3, max(0.02, 0.25 * exp(0.5 * rng.normal()))) }
            // Var(z_f) under the control law: spread of the centres (1.2 s_f) + within a state (0.6 s_f).
            let latentVariance = scales.map { $0 * $0 * (1.44 + 0.36) }
            programs = ScRNALikeDataset.effects.map { effect in
                let size = max(3, Int((effect.programFraction * Double(genes)).rounded()))
                let chosen = Array(rng.permutation(genes).prefix(size)).sorted()
                let changes = chosen.map { _ -> Double in
                    let magnitude = effect.strength * (0.5 + rng.uniform())
                    return rng.uniform() < effect.upFraction ? magnitude : -magnitude
                }
                let specific = chosen.map { _ in rng.uniform() < ScRNALikeDataset.stateSpecificFraction }
                let axis = (0..<r).map { _ in rng.normal() }
                let scale = zip(axis, latentVariance).reduce(0.0) { $0 + $1.0 * $1.0 * $1.1 }.squareRoot()
                return Program(genes: chosen, logFoldChanges: changes, stateSpecific: specific,
                               sensitiveState: rng.bounded(ScRNALikeDataset.stateProportions.count),
                               responseAxis: axis, responseScale: max(scale, 1e-12), heterogeneity: effect.heterogeneity)
            }
        }

        /// A cell of the control law, or of the law whose state weights are `weights` (∝, one per
        /// state; a drug's death and growth).
        public func cellState(_ rng: inout SeededRNG, weights: [Double]? = nil) -> CellState {
            var state = 0
            if let weights {
                state = MassChange.draw(weights, &rng)
            } else {
                let u = rng.uniform()
                var cumulative = ScRNALikeDataset.stateProportions[0]
                while u >= cumulative, state + 1 < ScRNALikeDataset.stateProportions.count {
                    state += 1
                    cumulative += ScRNALikeDataset.stateProportions[state]
                }
            }
            let z = zip(centres[state], factorScales).map { $0 + 0.6 * $1 * rng.normal() }
            return CellState(state: state, z: z)
        }

        /// The response of `cell` to drug `index` on its non-state-specific genes: 1 + ρ·tanh(v·z/σ).
        public func response(drug index: Int, cell: CellState) -> Double {
            let program = programs[index]
            let projection = zip(program.responseAxis, cell.z).reduce(0.0) { $0 + $1.0 * $1.1 } / program.responseScale
            return 1 + program.heterogeneity * tanh(projection)
        }

        /// The expected counts of `cell` with library size `library`, treated with drug `drug`
        /// (nil: control).
        public func means(cell: CellState, library: Double, drug: Int?) -> [Double] {
            var logMeans = baseline
            for g in 0..<genes {
                var sum = logMeans[g]
                for f in 0..<cell.z.count { sum += loadings[g, f] * cell.z[f] }
                logMeans[g] = sum
            }
            let top = logMeans.max() ?? 0
            var weights = logMeans.map { exp($0 - top) }
            let total = weights.reduce(0, +)
            for g in 0..<genes { weights[g] *= library / total }
            if let drug {
                let program = programs[drug]
                let response = response(drug: drug, cell: cell)
                let inState = cell.state == program.sensitiveState
                for (k, gene) in program.genes.enumerated() {
                    let scale = program.stateSpecific[k] ? (inState ? 1.8 : 0.2) : response
                    weights[gene] *= exp(program.logFoldChanges[k] * scale)
                }
            }
            return weights
        }

        /// One cell's state and counts: (gene, count) for the non-zero genes, ascending.
        func sampleCell(_ rng: inout SeededRNG, drug: Int?, stateWeights: [Double]? = nil) -> (state: Int, counts: [(Int32, Float)]) {
            let cell = cellState(&rng, weights: stateWeights)
            let library = ScRNALikeDataset.medianLibrarySize * exp(ScRNALikeDataset.librarySpread * rng.normal())
            let mu = means(cell: cell, library: library, drug: drug)
            var entries: [(Int32, Float)] = []
            entries.reserveCapacity(genes / 4)
            for g in 0..<genes {
                let shape = 1 / dispersions[g]
                let rate = ScRNALikeDataset.gamma(shape: shape, &rng) * mu[g] / shape
                let count = ScRNALikeDataset.poisson(rate, &rng)
                if count > 0 { entries.append((Int32(g), Float(count))) }
            }
            return (cell.state, entries)
        }
    }

    /// The names of the discrete cell states in obs `cell_state`.
    public static var stateNames: [String] { stateProportions.indices.map { "state\($0 + 1)" } }

    /// The dataset, built in memory (`AnnDataWriter.write` stores it). X is CSR (float32 holding
    /// integer counts), obs `drug` is categorical (`control` + the five drugs), obs `cell_state`
    /// is each cell's discrete state (the ground truth, `stateNames`), var names are
    /// `geneNames`, and uns `perturbot_scrna_like` records the generator, the seed, the median
    /// library size and each drug's up and down genes (`programs/<drug>/up`, `…/down`).
    /// - Throws: `DatasetError.invalidInput` for fewer than `minimumGenes` genes or fewer than 2
    ///   cells in a group.
    public static func make(_ options: Options = Options()) throws -> AnnData<Float> {
        guard options.genes >= minimumGenes else {
            throw DatasetError.invalidInput("scrna-like needs at least \(minimumGenes) genes, got \(options.genes)")
        }
        guard options.controlCells >= 2, options.cellsPerDrug >= 2 else {
            throw DatasetError.invalidInput("scrna-like needs at least 2 control cells and 2 cells per drug")
        }
        try MassChange.validate(options.massChanges, drugs: drugs, states: stateNames)
        let law = Law(seed: options.seed, genes: options.genes)
        var rng = SeededRNG(seed: options.seed)
        var indptr = [0], indices: [Int32] = [], values: [Float] = []
        var codes: [Int32] = [], states: [Int32] = []
        let groups = [(nil as Int?, options.controlCells)] + drugs.indices.map { ($0 as Int?, options.cellsPerDrug) }
        for (drug, cells) in groups {
            // A drug's death and growth reweight the states its cells are drawn from.
            let weights = drug.flatMap { index -> [Double]? in
                guard !options.massChanges.isEmpty else { return nil }
                return zip(stateProportions, MassChange.factors(options.massChanges, drug: drugs[index], states: stateNames)).map { $0 * $1 }
            }
            for _ in 0..<cells {
                let cell = law.sampleCell(&rng, drug: drug, stateWeights: weights)
                for (gene, count) in cell.counts {
                    indices.append(gene)
                    values.append(count)
                }
                states.append(Int32(cell.state))
                indptr.append(indices.count)
                codes.append(Int32(drug.map { $0 + 1 } ?? 0))
            }
        }
        let x = try SparseMatrix(format: .csr, rows: codes.count, cols: options.genes,
                                 data: values, indices: indices, indptr: indptr)
        var obs = DataFrame(index: (0..<codes.count).map { "cell\($0)" })
        try obs.setColumn("drug", .categorical(try Categorical(categories: ["control"] + drugs, codes: codes)))
        try obs.setColumn("cell_state", .categorical(try Categorical(categories: stateNames, codes: states)))
        let names = geneNames(options.genes)
        var programs: [String: UnsValue] = [:]
        for (index, drug) in drugs.enumerated() {
            programs[drug] = .dictionary([
                "up": .string(law.programs[index].upGenes.map { names[$0] }.joined(separator: ",")),
                "down": .string(law.programs[index].downGenes.map { names[$0] }.joined(separator: ",")),
            ])
        }
        var record: [String: UnsValue] = [
            "generator": .string("perturbot generate scrna-like"),
            "seed": .integer(Int64(options.seed)),
            "median_library_size": .double(medianLibrarySize),
            "programs": .dictionary(programs),
        ]
        if !options.massChanges.isEmpty {
            record["mass"] = .dictionary(MassChange.truth(options.massChanges, drugs: drugs, states: stateNames, proportions: stateProportions))
        }
        return AnnData(X: .sparse(x), obs: obs, var: DataFrame(index: names), uns: [
            "perturbot_scrna_like": .dictionary(record),
        ])
    }

    /// Gamma(shape, 1) by Marsaglia & Tsang (2000); shape < 1 through Gamma(shape + 1)·U^(1/shape).
    static func gamma(shape: Double, _ rng: inout SeededRNG) -> Double {
        if shape < 1 {
            let u = 1 - rng.uniform()  // in (0, 1]
            return gamma(shape: shape + 1, &rng) * pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            let x = rng.normal()
            let t = 1 + c * x
            guard t > 0 else { continue }
            let v = t * t * t
            let u = rng.uniform()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if u > 0, log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// Poisson(λ): inversion by sequential search below λ = 10, Hörmann's PTRS (1993, as numpy)
    /// above.
    static func poisson(_ lambda: Double, _ rng: inout SeededRNG) -> Int {
        guard lambda > 0, lambda.isFinite else { return 0 }
        if lambda < 10 {
            var p = exp(-lambda), cumulative = p, k = 0
            let u = rng.uniform()
            while u > cumulative, k < 1000 {
                k += 1
                p *= lambda / Double(k)
                cumulative += p
            }
            return k
        }
        let slam = lambda.squareRoot(), logLambda = log(lambda)
        let b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b
        let inverseAlpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2)
        while true {
            let u = rng.uniform() - 0.5, v = rng.uniform()
            let us = 0.5 - abs(u)
            guard us > 0 else { continue }
            let k = floor((2 * a / us + b) * u + lambda + 0.43)
            if us >= 0.07, v <= vr { return Int(k) }
            if k < 0 || (us < 0.013 && v > us) { continue }
            if v > 0, log(v) + log(inverseAlpha) - log(a / (us * us) + b) <= -lambda + k * logLambda - lgamma(k + 1) {
                return Int(k)
            }
        }
    }
}
