import Methods
import Stages

/// Where something was written in a pipeline file (1-based, as editors count).
public struct SourceLocation: Sendable, Equatable, Codable, CustomStringConvertible {
    public let line: Int
    public let column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// A value read from the pipeline file with where it was written, so checks made later (against
/// the data file) can still point at the line.
public struct Located<Value: Sendable & Equatable & Codable>: Sendable, Equatable, Codable {
    public let value: Value
    public let location: SourceLocation

    public init(value: Value, location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

/// A validated pipeline file (the shape of shared/DESIGN.md).
public struct PipelineSpec: Sendable, Equatable, Codable {
    public struct DataSpec: Sendable, Equatable, Codable {
        /// As written; relative paths are relative to the pipeline file's folder.
        public let path: Located<String>
        /// `data.condition_key`: one obs column, or several (`[drug, dose]`) whose values together
        /// make a condition (`ConditionTable`).
        public let conditionKeys: [Located<String>]
        /// The first (usually the only) condition column; the one `control` is a value of.
        public var conditionKey: Located<String> { conditionKeys[0] }
        public let control: Located<String>
        /// `data.context_key`: an obs column whose values (cell lines) each have their own control
        /// cells; a problem is then one (context, condition). nil: no contexts.
        public var contextKey: Located<String>? = nil
        /// Whether conditions are tuples or live in contexts: the data check and the plan then
        /// read the cells' values (`ConditionTable`) rather than one column's categories.
        public var hasCompositeConditions: Bool { conditionKeys.count > 1 || contextKey != nil }
        /// The feature sets, each `X` or the name of an obsm entry. One, usually; several
        /// (`features: [gmm_d64, gmm_d128]`, with `pca: none`) are independent problems on the
        /// same cells, each solved and evaluated in its own space and reported as its own d
        /// column, as PCA sizes are.
        public let featureSets: [Located<String>]
        /// The first (usually the only) feature set.
        public var features: Located<String> { featureSets[0] }
        /// `data.true_map`: per feature set, the obsm entry holding each cell's true image T₀(x)
        /// in that feature space (a synthetic benchmark's ground truth, for the `map_mse` and
        /// `l2_uvp` metrics); nil when not given.
        public let trueMaps: [Located<String>]?
        /// With `features: X`: a text file listing the var names to keep, one per line (as
        /// CellOT's `features.txt`); nil keeps every column.
        public let varNames: Located<String>?
        /// Applied to X before PCA: none, log1p, or normalize_log1p (scale each cell to
        /// `target_sum` counts, then log1p), as scanpy's normalize_total + log1p.
        public let transform: Transform
        public let targetSum: Double
        /// `data.true_programs`: the uns path (slash-separated) of each drug's known up and down
        /// genes (`TrueProgram`), for the gene-space `program_recall`; nil when not given.
        public var truePrograms: Located<String>? = nil
    }

    public enum Transform: String, Sendable, Codable, CaseIterable {
        case none, log1p, normalize_log1p
    }

    public enum Drugs: Sendable, Equatable, Codable {
        case all
        case list([Located<String>])
    }

    public struct SplitSpec: Sendable, Equatable, Codable {
        /// Unused with `holdout`.
        public let testFraction: Double
        public let seeds: [UInt64]
        /// An out-of-distribution split (CellOT's `ood` mode): the cells whose obs `key` is one of
        /// `values` are the test cells, all others train; nil: random test cells.
        public let holdout: Holdout?

        public struct Holdout: Sendable, Equatable, Codable {
            public let key: Located<String>
            public let values: [Located<String>]
        }

        public init(testFraction: Double, seeds: [UInt64], holdout: Holdout? = nil) {
            self.testFraction = testFraction
            self.seeds = seeds
            self.holdout = holdout
        }
    }

    public struct MethodSpec: Sendable, Equatable, Codable {
        public let name: String
        public let solver: String
        /// The parameters as the file writes them (the others take their defaults).
        public let parameters: [String: ParameterValue]
        /// The method's whole configuration: what its solve tasks hash and run.
        public let method: ConfiguredMethod
    }

    /// The metrics are the evaluate stage's.
    public typealias Metric = Evaluate.Metric

    /// `pca: { components: [...] }`, or `pca: none` (`disabled`: solve and evaluate in feature
    /// space, no PCA fitted; the d column of the report is then the feature dimension).
    public enum PCAChoice: Sendable, Equatable, Codable {
        case components([Located<Int>])
        case disabled
    }

    /// `evaluate.space`: where predictions are scored — in the space the maps are fitted in (PCA,
    /// or the features with `pca: none`), in gene space (the predictions decoded to the loaded
    /// features, `GeneScore`), or both.
    public enum EvaluateSpace: String, Sendable, Codable, CaseIterable {
        case pca, genes, both
    }

    /// `evaluate:` is the evaluate stage's parameters, as every evaluate task runs with them.
    public typealias EvaluateSpec = Evaluate.Parameters

    public enum ReportFormat: String, Sendable, Codable, CaseIterable {
        case markdown, csv, svg, html
    }

    public struct ReportSpec: Sendable, Equatable, Codable {
        public let out: String
        public let formats: [ReportFormat]
        public let savePredictions: Bool
        /// `report.mass_by`: an obs column; the report gives the mean retained mass of the held-out
        /// control cells per value of it, drug and method (unbalanced maps), and the evaluate
        /// tasks record each cell's retained mass. nil: no mass table.
        public var massBy: Located<String>? = nil

        public init(out: String, formats: [ReportFormat], savePredictions: Bool) {
            self.out = out
            self.formats = formats
            self.savePredictions = savePredictions
        }
    }

    public let name: String
    public let data: DataSpec
    public let drugs: Drugs
    public let pca: PCAChoice
    /// The PCA sizes; empty with `pca: none`.
    public var pcaComponents: [Located<Int>] {
        if case .components(let sizes) = pca { return sizes }
        return []
    }
    public let split: SplitSpec
    /// In file order.
    public let methods: [MethodSpec]
    public let evaluate: EvaluateSpec
    /// `evaluate.space: genes` or `both`: the metrics every `gene_score` task computes (of
    /// `GeneScore.available`); nil with `space: pca` (the default), where nothing is scored in
    /// gene space.
    public var geneMetrics: [String]? = nil
    /// `evaluate.decode`: how the gene-space tasks take predictions back to the genes.
    public var geneDecode: GeneScore.Decode = .displacement
    public let report: ReportSpec
}
