import AnnData
import LinearAlgebra

/// The synthetic sc-RNA task of the displacement-sparse ICNN paper (Chen, Xie & Zhang, §5.1; the
/// construction of the authors' `hd-data-gen.py`, REFERENCES.md Part B §2): control cells with
/// every gene uniform on [0, 1); treated cells are the same cells with k genes raised by
/// U[0, 1)·`shift` and `noiseGenes` independently drawn genes (which may overlap the k) raised by
/// U[0, 1). Each control cell's true image is its treated copy, so `map_mse` is defined; the paper
/// counts a gene as moved when |Δ| > 1, which the noise never exceeds, so the truth has k moved genes.
///
/// File layout: X (dense Float32) holds the control cells, then their treated copies, in the same
/// order; obs `condition` ∈ {control, treated}; obsm `true_map` holds each control row's treated
/// copy (treated rows hold themselves: not meaningful); uns `perturbot_scrna_sparse` names the
/// perturbed genes. The numbers are drawn with perturbot's `SeededRNG`, so they are not the
/// authors' NumPy draws (seed 42), only the same law.
public enum ScRNASparseDataset {
    public static let conditionKey = "condition"
    public static let controlLabel = "control"
    public static let treatedLabel = "treated"
    public static let trueMapKey = "true_map"

    public struct Options: Sendable, Equatable {
        public var seed: UInt64
        /// n, the number of cells (each appears once as control and once treated).
        public var cells: Int
        /// G, the number of genes.
        public var genes: Int
        /// k, the genes the treatment moves.
        public var perturbedGenes: Int
        /// Genes that get U[0, 1) noise.
        public var noiseGenes: Int
        /// The perturbed genes rise by U[0, 1) × this.
        public var shift: Double

        public init(seed: UInt64 = 0, cells: Int = 2000, genes: Int = 3000, perturbedGenes: Int = 100,
                    noiseGenes: Int = 2000, shift: Double = 100) {
            self.seed = seed
            self.cells = cells
            self.genes = genes
            self.perturbedGenes = perturbedGenes
            self.noiseGenes = noiseGenes
            self.shift = shift
        }
    }

    /// The perturbed genes (0-based, ascending) of a seed and shape.
    public static func perturbedGenes(_ options: Options) -> [Int] {
        var rng = SeededRNG(seed: options.seed ^ 0x5EED_5A55)
        return Array(rng.permutation(options.genes).prefix(options.perturbedGenes)).sorted()
    }

    public static func make(_ options: Options) throws -> AnnData<Float> {
        guard options.cells >= 2 else { throw DatasetError.invalidInput("scrna-sparse: needs at least 2 cells, got \(options.cells)") }
        guard options.genes >= 1 else { throw DatasetError.invalidInput("scrna-sparse: needs at least 1 gene, got \(options.genes)") }
        guard (0...options.genes).contains(options.perturbedGenes) else {
            throw DatasetError.invalidInput("scrna-sparse: --perturbed-genes must be between 0 and --genes (\(options.genes)), got \(options.perturbedGenes)")
        }
        guard (0...options.genes).contains(options.noiseGenes) else {
            throw DatasetError.invalidInput("scrna-sparse: --noise-genes must be between 0 and --genes (\(options.genes)), got \(options.noiseGenes)")
        }
        guard options.shift.isFinite, options.shift >= 0 else {
            throw DatasetError.invalidInput("scrna-sparse: --shift must be a finite number ≥ 0, got \(options.shift)")
        }
        let n = options.cells, g = options.genes
        let perturbed = perturbedGenes(options)
        var noiseRNG = SeededRNG(seed: options.seed ^ 0x0015_E6E5)
        let noisy = Array(noiseRNG.permutation(g).prefix(options.noiseGenes)).sorted()
        var rng = SeededRNG(seed: options.seed)
        let control = Matrix<Double>(rows: n, cols: g) { _, _ in rng.uniform() }
        var treated = control
        for i in 0..<n {
            for j in perturbed { treated[i, j] += rng.uniform() * options.shift }
            for j in noisy { treated[i, j] += rng.uniform() }
        }
        let x = Matrix<Float>(rows: 2 * n, cols: g) { i, j in Float(i < n ? control[i, j] : treated[i - n, j]) }
        let trueMap = Matrix<Float>(rows: 2 * n, cols: g) { i, j in Float(treated[i % n, j]) }
        var obs = DataFrame(index: (0..<(2 * n)).map { $0 < n ? "cell\($0)" : "cell\($0 - n)_treated" })
        let codes = (0..<(2 * n)).map { Int32($0 < n ? 0 : 1) }
        try obs.setColumn(conditionKey, .categorical(try Categorical(categories: [controlLabel, treatedLabel], codes: codes)))
        let names = ScRNALikeDataset.geneNames(g)
        return AnnData(X: .dense(x), obs: obs, var: DataFrame(index: names), obsm: [trueMapKey: trueMap], uns: [
            "perturbot_scrna_sparse": .dictionary([
                "generator": .string("perturbot generate scrna-sparse"),
                "seed": .integer(Int64(options.seed)),
                "perturbed_genes": .string(perturbed.map { names[$0] }.joined(separator: ",")),
                "noise_genes": .integer(Int64(options.noiseGenes)),
                "shift": .double(options.shift),
                "note": .string("true_map rows of treated cells are not meaningful; only control rows carry T0(x)"),
            ]),
        ])
    }
}
