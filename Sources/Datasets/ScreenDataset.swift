import AnnData
import Foundation
import LinearAlgebra

/// A sci-Plex-3-shaped screen (Srivatsan et al. 2020): raw negative-binomial counts of several
/// cell lines under many drugs at several doses, each line with its own vehicle cells.
///
/// The law, all drawn from the seed:
/// - genes: baseline log abundances, one offset per cell line and gene (the lines differ), 8
///   latent factors with sparse loadings, three cell states (proportions 0.5, 0.3, 0.2),
///   per-gene dispersions; library sizes log-normal around 1,000 counts (as `ScRNALikeDataset`);
/// - each drug: a gene program (1–10 % of the genes, log fold changes ±0.4–1.6), a Hill curve
///   h(dose) = doseⁿ/(doseⁿ + EC50ⁿ) with a drug-specific EC50 (log-uniform over the dose range)
///   and n ∈ [1, 3]; a fifth of the drugs are inactive; a quarter kill up to 30–90 % of one state
///   at high dose (the killed share is that maximum × h(dose));
/// - each (cell line, drug): a sensitivity, 0.1 for a resistant line (a fifth of the pairs), else
///   0.6–1.4; the program's log fold changes are scaled by sensitivity × h(dose).
/// The truth (programs, EC50s, Hill coefficients, activity, kills, sensitivities) goes into uns
/// `perturbot_screen`. Seeded: the same options give the same file.
public enum ScreenDataset {
    /// The vehicle (control) label of obs `drug`.
    public static let vehicle = "vehicle"
    static let stateProportions = [0.5, 0.3, 0.2]
    public static var stateNames: [String] { stateProportions.indices.map { "state\($0 + 1)" } }

    public struct Options: Sendable {
        public var seed: UInt64
        public var cellLines: Int
        public var drugs: Int
        public var doses: Int
        public var cellsPerCondition: Int
        public var controlCellsPerLine: Int
        public var genes: Int

        /// The defaults are sci-Plex 3's line-up: 3 lines × 188 drugs × 4 doses × 230 cells, and
        /// 5,000 vehicle cells per line (533,880 cells) over 2,000 genes.
        public init(seed: UInt64 = 0, cellLines: Int = 3, drugs: Int = 188, doses: Int = 4, cellsPerCondition: Int = 230,
                    controlCellsPerLine: Int = 5000, genes: Int = 2000) {
            self.seed = seed
            self.cellLines = cellLines
            self.drugs = drugs
            self.doses = doses
            self.cellsPerCondition = cellsPerCondition
            self.controlCellsPerLine = controlCellsPerLine
            self.genes = genes
        }

        /// Cells in the file.
        public var cellCount: Int { cellLines * (controlCellsPerLine + drugs * doses * cellsPerCondition) }
    }

    /// Cell line names: sci-Plex 3's three, then `line4` ….
    public static func lineNames(_ count: Int) -> [String] {
        (0..<count).map { $0 < 3 ? ["A549", "K562", "MCF7"][$0] : "line\($0 + 1)" }
    }

    /// Drug names `drug001` ….
    public static func drugNames(_ count: Int) -> [String] {
        let width = max(3, String(count).count)
        return (0..<count).map { index in
            let digits = String(index + 1)
            return "drug" + String(repeating: "0", count: width - digits.count) + digits
        }
    }

    /// The doses, log-spaced by 10 from 10 (sci-Plex 3: 10, 100, 1,000, 10,000 nM).
    public static func doseValues(_ count: Int) -> [Double] { (0..<count).map { pow(10, Double($0 + 1)) } }

    /// One drug's effect.
    public struct Drug: Sendable, Equatable {
        public let genes: [Int]
        public let logFoldChanges: [Double]
        public let ec50: Double
        public let hill: Double
        public let active: Bool
        /// The state it kills at high dose and the largest share killed; nil when it kills none.
        public let kill: (state: Int, maximum: Double)?

        public static func == (a: Drug, b: Drug) -> Bool {
            a.genes == b.genes && a.logFoldChanges == b.logFoldChanges && a.ec50 == b.ec50 && a.hill == b.hill
                && a.active == b.active && a.kill?.state == b.kill?.state && a.kill?.maximum == b.kill?.maximum
        }

        /// h(dose) = doseⁿ/(doseⁿ + EC50ⁿ), 0 when inactive.
        public func response(dose: Double) -> Double {
            guard active, dose > 0 else { return 0 }
            let ratio = pow(dose / ec50, hill)
            return ratio / (1 + ratio)
        }
    }

    /// The law of the screen.
    public struct Law: Sendable {
        let genes: Int
        let baseline: [Double]
        /// lines × genes.
        let lineOffsets: [[Double]]
        let loadings: Matrix<Double>
        let centres: [[Double]]
        let factorScales: [Double]
        let dispersions: [Double]
        public let drugs: [Drug]
        /// lines × drugs.
        public let sensitivity: [[Double]]

        public init(_ options: Options) {
            var rng = SeededRNG(seed: options.seed ^ 0x5C_12EE_0003)
            let genes = options.genes, r = ScRNALikeDataset.latentDimension
            self.genes = genes
            baseline = (0..<genes).map { _ in 2.0 * rng.normal() }
            lineOffsets = (0..<options.cellLines).map { _ in (0..<genes).map { _ in 0.5 * rng.normal() } }
            loadings = Matrix(rows: genes, cols: r) { _, _ in rng.uniform() < 0.3 ? 0.5 * rng.normal() : 0 }
            let scales = (0..<r).map { pow(0.85, Double($0)) }
            factorScales = scales
            centres = ScreenDataset.stateProportions.indices.map { _ in scales.map { 1.2 * $0 * rng.normal() } }
            dispersions = (0..<genes).map { _ in min(3, max(0.02, 0.25 * exp(0.5 * rng.normal()))) }
            let doses = ScreenDataset.doseValues(options.doses)
            let lowest = log10(doses.first ?? 10), highest = log10(doses.last ?? 10)
            drugs = (0..<options.drugs).map { _ in
                let size = max(3, Int((Double(genes) * (0.01 + 0.09 * rng.uniform())).rounded()))
                let chosen = Array(rng.permutation(genes).prefix(size)).sorted()
                let changes = chosen.map { _ in (0.4 + 1.2 * rng.uniform()) * (rng.uniform() < 0.6 ? 1 : -1) }
                let ec50 = pow(10, lowest - 0.5 + (highest - lowest + 1) * rng.uniform())
                let hill = 1 + 2 * rng.uniform()
                let active = rng.uniform() >= 0.2
                let kills = rng.uniform() < 0.25
                let state = rng.bounded(ScreenDataset.stateProportions.count), maximum = 0.3 + 0.6 * rng.uniform()
                return Drug(genes: chosen, logFoldChanges: changes, ec50: ec50, hill: hill, active: active,
                            kill: kills && active ? (state, maximum) : nil)
            }
            sensitivity = (0..<options.cellLines).map { _ in
                (0..<options.drugs).map { _ in rng.uniform() < 0.2 ? 0.1 : 0.6 + 0.8 * rng.uniform() }
            }
        }

        /// One cell's state and counts of `line`, treated with `drug` at `dose` (nil: vehicle).
        func sampleCell(_ rng: inout SeededRNG, line: Int, drug: Int?, dose: Double) -> (state: Int, counts: [(Int32, Float)]) {
            var weights = ScreenDataset.stateProportions
            var response = 0.0
            if let drug {
                let effect = drugs[drug], h = effect.response(dose: dose)
                response = sensitivity[line][drug] * h
                if let kill = effect.kill { weights[kill.state] *= 1 - kill.maximum * h * min(1, sensitivity[line][drug]) }
            }
            let state = MassChange.draw(weights, &rng)
            let z = zip(centres[state], factorScales).map { $0 + 0.6 * $1 * rng.normal() }
            var logMeans = [Double](repeating: 0, count: genes)
            for g in 0..<genes {
                var sum = baseline[g] + lineOffsets[line][g]
                for f in 0..<z.count { sum += loadings[g, f] * z[f] }
                logMeans[g] = sum
            }
            if let drug, response > 0 {
                let effect = drugs[drug]
                for (k, gene) in effect.genes.enumerated() { logMeans[gene] += effect.logFoldChanges[k] * response }
            }
            let top = logMeans.max() ?? 0
            var total = 0.0
            for g in 0..<genes {
                logMeans[g] = exp(logMeans[g] - top)
                total += logMeans[g]
            }
            let library = ScRNALikeDataset.medianLibrarySize * exp(ScRNALikeDataset.librarySpread * rng.normal())
            var entries: [(Int32, Float)] = []
            entries.reserveCapacity(genes / 4)
            for g in 0..<genes {
                let mean = logMeans[g] * library / total
                let shape = 1 / dispersions[g]
                let count = ScRNALikeDataset.poisson(ScRNALikeDataset.gamma(shape: shape, &rng) * mean / shape, &rng)
                if count > 0 { entries.append((Int32(g), Float(count))) }
            }
            return (state, entries)
        }
    }

    /// The screen as an AnnData: CSR counts, obs `cell_line`, `drug` (`vehicle` for controls),
    /// `dose` (0 for vehicle) and `cell_state`, var names `GENE0001` …, the truth in uns.
    /// - Throws: `DatasetError.invalidInput` for counts below 1 (2 vehicle cells per line, 50
    ///   genes) or a file past CSR's 32-bit indices.
    public static func make(_ options: Options = Options()) throws -> AnnData<Float> {
        guard options.cellLines >= 1, options.drugs >= 1, options.doses >= 1, options.cellsPerCondition >= 1 else {
            throw DatasetError.invalidInput("screen needs at least 1 cell line, drug, dose and cell per condition")
        }
        guard options.controlCellsPerLine >= 2 else { throw DatasetError.invalidInput("screen needs at least 2 vehicle cells per line") }
        guard options.genes >= ScRNALikeDataset.minimumGenes else {
            throw DatasetError.invalidInput("screen needs at least \(ScRNALikeDataset.minimumGenes) genes, got \(options.genes)")
        }
        let law = Law(options)
        let doses = doseValues(options.doses)
        var rng = SeededRNG(seed: options.seed)
        var indptr = [0], indices: [Int32] = [], values: [Float] = []
        var lineCodes: [Int32] = [], drugCodes: [Int32] = [], doseValues: [Double] = [], states: [Int32] = []
        let total = options.cellCount
        indptr.reserveCapacity(total + 1)
        for line in 0..<options.cellLines {
            var conditions: [(drug: Int?, dose: Double, cells: Int)] = [(nil, 0, options.controlCellsPerLine)]
            for drug in 0..<options.drugs {
                for dose in doses { conditions.append((drug, dose, options.cellsPerCondition)) }
            }
            for condition in conditions {
                for _ in 0..<condition.cells {
                    let cell = law.sampleCell(&rng, line: line, drug: condition.drug, dose: condition.dose)
                    for (gene, count) in cell.counts {
                        indices.append(gene)
                        values.append(count)
                    }
                    guard indices.count < Int(Int32.max) else {
                        throw DatasetError.invalidInput("screen: more than 2³¹ non-zero counts; fewer cells or genes")
                    }
                    indptr.append(indices.count)
                    lineCodes.append(Int32(line))
                    drugCodes.append(Int32(condition.drug.map { $0 + 1 } ?? 0))
                    doseValues.append(condition.dose)
                    states.append(Int32(cell.state))
                }
            }
        }
        let x = try SparseMatrix(format: .csr, rows: total, cols: options.genes, data: values, indices: indices, indptr: indptr)
        let drugs = drugNames(options.drugs), lines = lineNames(options.cellLines), genes = ScRNALikeDataset.geneNames(options.genes)
        var obs = DataFrame(index: (0..<total).map { "cell\($0)" })
        try obs.setColumn("cell_line", .categorical(try Categorical(categories: lines, codes: lineCodes)))
        try obs.setColumn("drug", .categorical(try Categorical(categories: [vehicle] + drugs, codes: drugCodes)))
        try obs.setColumn("dose", .double(doseValues))
        try obs.setColumn("cell_state", .categorical(try Categorical(categories: stateNames, codes: states)))
        var truth: [String: UnsValue] = [:]
        for (index, drug) in law.drugs.enumerated() {
            var entry: [String: UnsValue] = [
                "ec50": .double(drug.ec50), "hill": .double(drug.hill), "active": .bool(drug.active),
                "up": .string(zip(drug.genes, drug.logFoldChanges).filter { $0.1 > 0 }.map { genes[$0.0] }.joined(separator: ",")),
                "down": .string(zip(drug.genes, drug.logFoldChanges).filter { $0.1 < 0 }.map { genes[$0.0] }.joined(separator: ",")),
            ]
            if let kill = drug.kill {
                entry["kill_state"] = .string(stateNames[kill.state])
                entry["kill_maximum"] = .double(kill.maximum)
            }
            for (line, name) in lines.enumerated() { entry["sensitivity_\(name)"] = .double(law.sensitivity[line][index]) }
            truth[drugs[index]] = .dictionary(entry)
        }
        return AnnData(X: .sparse(x), obs: obs, var: DataFrame(index: genes), uns: [
            "perturbot_screen": .dictionary([
                "generator": .string("perturbot generate screen"),
                "seed": .integer(Int64(options.seed)),
                "doses": .string(doses.map { String(format: "%g", $0) }.joined(separator: ",")),
                "drugs": .dictionary(truth),
            ]),
        ])
    }
}
