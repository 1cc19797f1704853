import Foundation
import LinearAlgebra
import Scoring
import Transport

/// The `gene_score` stage (`evaluate: {space: genes}` or `both`): one method's predictions for
/// every drug at one PCA size and seed, decoded back to the loaded features (the genes PCA was
/// fitted on) and scored as `perturbot score` scores two files (`GeneSpaceScore`: cell-eval's
/// metrics and DE agreement, pertpy's energy distance), with the held-out cells as the real
/// file. All drugs are scored together because cell-eval's discrimination score and
/// `pearson_edistance` compare each perturbation with the others.
///
/// The real file holds the held-out control cells and each drug's held-out treated cells, as
/// loaded. The predicted file holds, for each drug, one predicted cell per held-out control cell
/// and, as its control cells, control cells decoded the same way, as `Decode` chooses. With
/// `pca: none` nothing is decoded: the prediction is T(x) and the control cells are as loaded.
public enum GeneScore {
    /// The share of a drug's true program (`data.true_programs`) the predicted DE finds
    /// (`TrueProgram.recall`).
    public static let programRecall = "program_recall"

    /// Every metric a gene_score task can compute, in report order.
    public static var available: [String] { GeneSpaceScore.metrics + [programRecall] }

    /// The metrics of `evaluate: {space: genes}` that lists no `gene_metrics` (program_recall
    /// is added when the data has true programs).
    public static let defaults = [
        "pearson_delta", "mse_delta", "discrimination_score_l1", "edistance", "overlap_at_N", "precision_at_N",
        "de_direction_match", "de_spearman_lfc_sig", "de_sig_genes_recall", "de_nsig_counts_real", "de_nsig_counts_pred",
        "pr_auc", "roc_auc",
    ]

    /// The metrics that read the DE tables: the report shows them per drug in one table.
    public static var differentialExpressionMetrics: Set<String> { Set(CellEval.deMetrics).union([programRecall]) }

    /// The metrics where higher is better (correlations, overlaps, AUCs, the discrimination score,
    /// recalls); the DE counts are neither and are not ranked.
    public static let higherIsBetter: Set<String> = Set(
        ["pearson_delta", "discrimination_score_l1", "discrimination_score_l2", "discrimination_score_cosine",
         "pearson_edistance", "de_spearman_sig", "de_direction_match", "de_spearman_lfc_sig", "de_sig_genes_recall",
         "pr_auc", "roc_auc", programRecall]
    ).union(CellEval.deMetrics.filter { $0.hasPrefix("overlap_at_") || $0.hasPrefix("precision_at_") })

    /// Counts, not scores.
    public static let unranked: Set<String> = ["de_nsig_counts_real", "de_nsig_counts_pred"]

    /// How a prediction in PCA space becomes cells in gene space.
    public enum Decode: String, Sendable, Codable, CaseIterable {
        /// g(x) + (T(x) − x)·V: each control cell as loaded, moved by the map's displacement
        /// taken back to gene space. The predicted file's control cells are the loaded ones. A
        /// predicted cell keeps its control cell's variation outside the first d components, so
        /// the predicted DE tests a shift against cells as noisy as the real ones.
        case displacement
        /// T(x)·V + mean, the prediction's own reconstruction (its part outside the d components
        /// is the training mean). The predicted file's control cells are the held-out control
        /// cells passed through the same PCA and back (x·V + mean), so that the identity
        /// predicts no change; rank-d cells vary less per gene than real ones, so small shifts
        /// come out significant.
        case reconstruction
    }

    /// The task's parameters: the value its cache key hashes and the value it runs with.
    public struct Parameters: Sendable, Equatable, Codable {
        public let metrics: [String]
        public let control: String
        /// In the order of the task's split and solve inputs.
        public let drugs: [String]
        public let decode: Decode
        /// The uns path of the drugs' true programs (`data.true_programs`), read when
        /// `program_recall` is asked for.
        public let truePrograms: String?

        public init(metrics: [String], control: String, drugs: [String], decode: Decode = .displacement,
                    truePrograms: String? = nil) {
            self.metrics = metrics
            self.control = control
            self.drugs = drugs
            self.decode = decode
            self.truePrograms = truePrograms
        }
    }

    /// One drug's fitted map and its split.
    public struct Fit {
        public let drug: String
        public let split: DrugSplit
        public let map: any TransportMap<Float>

        public init(drug: String, split: DrugSplit, map: any TransportMap<Float>) {
            self.drug = drug
            self.split = split
            self.map = map
        }
    }

    public struct Record: Sendable, Codable, Equatable {
        public let method: String
        public let components: Int
        public let seed: UInt64
        /// Drug → metric → value; nil where the metric is undefined (cell-eval's NaN: e.g. a
        /// correlation with no significant genes).
        public let metrics: [String: [String: Double?]]
        /// Drug → the recall of its true program by the real held-out cells' own DE: what a
        /// perfect map could reach at this sample size; nil without `data.true_programs`.
        public let realProgramRecall: [String: Double]?
    }

    /// - Parameters:
    ///   - data: the loaded features (the genes).
    ///   - space: the points the maps were fitted in; `model` decodes them (nil with `pca: none`).
    ///   - programs: each drug's true program, for `program_recall`.
    public static func run(_ parameters: Parameters, method: String, data: LoadedData, space: FeatureSpace, model: PCAModel?,
                           fits: [Fit], seed: UInt64, programs truePrograms: [String: TrueProgram]? = nil) throws -> Record {
        guard let first = fits.first else { throw StageError.invalidInput("gene_score: no drug to score") }
        guard fits.allSatisfy({ $0.split.testControl == first.split.testControl }) else {
            throw StageError.invalidInput("gene_score: the drugs' splits hold out different control cells; the gene-space scores need one shared control")
        }
        let wanted = Set(parameters.metrics)
        if !wanted.isDisjoint(with: differentialExpressionMetrics) {
            do {
                try ScoreInput.checkLog1p(data.features, path: "the loaded features")
            } catch {
                throw StageError.invalidInput("gene-space DE metrics need log1p expression (data.transform: log1p or normalize_log1p, or X already log1p): \(error)")
            }
        }
        // The held-out control cells in two seeded halves: the maps move the first, the second is
        // the control group of both files. A prediction made from the very cells it is tested
        // against differs from them in every gene it shifts at all (a sample against itself
        // shifted), so the predicted DE would call nearly every gene; against other cells it
        // calls what a shift of that size shows at this sample size, as the real DE does.
        let (moved, reference) = try controlHalves(first.split)
        let movedPoints = space.points.rows(at: moved)
        let referenceCells = data.features.rows(at: reference)
        let movedCells = data.features.rows(at: moved)
        let movedDecoded = try model.map { try $0.inverseTransform(movedPoints) }
        func decode(_ predicted: Matrix<Float>) throws -> Matrix<Float> {
            guard let model, let movedDecoded else { return predicted }
            let decoded = try model.inverseTransform(predicted)
            switch parameters.decode {
            case .reconstruction: return decoded
            case .displacement:
                return Matrix(rows: decoded.rows, cols: decoded.cols) { i, j in movedCells[i, j] + decoded[i, j] - movedDecoded[i, j] }
            }
        }
        let predictedControl = try parameters.decode == .reconstruction && model != nil
            ? (model?.inverseTransform(space.points.rows(at: reference)) ?? referenceCells) : referenceCells
        var realBlocks = [referenceCells]
        var predictedBlocks = [predictedControl]
        var labels = [String](repeating: parameters.control, count: reference.count)
        var predictedLabels = labels
        for fit in fits {
            realBlocks.append(data.features.rows(at: fit.split.testTreated))
            predictedBlocks.append(try decode(try fit.map.transport(movedPoints)))
            labels += [String](repeating: fit.drug, count: fit.split.testTreated.count)
            predictedLabels += [String](repeating: fit.drug, count: moved.count)
        }
        let real = ExpressionData(values: try stack(realBlocks), labels: labels, genes: data.featureNames)
        let predicted = ExpressionData(values: try stack(predictedBlocks), labels: predictedLabels, genes: data.featureNames)
        let programs = wanted.contains(programRecall) ? truePrograms : nil
        if wanted.contains(programRecall), programs == nil {
            throw StageError.invalidInput("gene_score: \(programRecall) needs data.true_programs")
        }
        // The recall reads the DE tables; ask for one DE metric so that they are computed.
        var computed = wanted.subtracting([programRecall])
        if programs != nil { computed.insert("de_nsig_counts_pred") }
        let outcome = try GeneSpaceScore.run(real: real, predicted: predicted, control: parameters.control, wanted: computed)
        var metrics: [String: [String: Double?]] = [:]
        var realRecall: [String: Double] = [:]
        for fit in fits {
            var row: [String: Double?] = [:]
            for metric in parameters.metrics where metric != programRecall {
                let value = outcome.table.values[fit.drug]?[metric] ?? nil
                row[metric] = value.flatMap { $0.isFinite ? $0 : nil }
            }
            if let program = programs?[fit.drug] {
                row[programRecall] = outcome.predictedDE.target(fit.drug).flatMap { program.recall(significant: significantSigns($0, genes: data.featureNames)) }
                realRecall[fit.drug] = outcome.realDE.target(fit.drug).flatMap { program.recall(significant: significantSigns($0, genes: data.featureNames)) }
            } else if programs != nil {
                row[programRecall] = .some(nil)
            }
            metrics[fit.drug] = row
        }
        return Record(method: method, components: space.points.cols, seed: seed, metrics: metrics,
                      realProgramRecall: programs == nil ? nil : realRecall)
    }

    /// The held-out control cells (rows of the data) cut in two seeded halves: the cells the maps
    /// move, and the control group of both files.
    static func controlHalves(_ split: DrugSplit) throws -> (moved: [Int], reference: [Int]) {
        guard split.testControl.count >= 4 else {
            throw StageError.invalidInput("gene_score: \(split.testControl.count) held-out control cells; the gene-space scores need at least 4 (two halves of 2)")
        }
        var rng = SeededRNG(seed: split.seed ^ 0x6E_E5C0)
        let order = rng.permutation(split.testControl.count)
        let half = split.testControl.count / 2
        return (order[..<half].map { split.testControl[$0] }.sorted(), order[half...].map { split.testControl[$0] }.sorted())
    }

    /// Gene → sign of its log2 fold change, for the genes the table calls significant (cell-eval's
    /// threshold, FDR < 0.05 in Float).
    static func significantSigns(_ table: DifferentialExpression.Target, genes: [String]) -> [String: Double] {
        Dictionary(DEAgreement.significantGenes(table).map { index in
            (genes[index], table.log2FoldChange[index] > 0 ? 1.0 : table.log2FoldChange[index] < 0 ? -1 : 0)
        }, uniquingKeysWith: { first, _ in first })
    }

    private static func stack(_ blocks: [Matrix<Float>]) throws -> Matrix<Float> {
        let cols = blocks.first?.cols ?? 0
        var storage: [Float] = []
        storage.reserveCapacity(blocks.reduce(0) { $0 + $1.storage.count })
        for block in blocks { storage += block.storage }
        return try Matrix(rows: blocks.reduce(0) { $0 + $1.rows }, cols: cols, storage: storage)
    }
}
