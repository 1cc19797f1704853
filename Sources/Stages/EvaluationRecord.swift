import Transport

/// The evaluate task's output: one row of results per metric.
public struct EvaluationRecord: Codable, Sendable, Equatable {
    public let drug: String
    public let components: Int
    public let seed: UInt64
    public let method: String
    /// Metric name → value, in the pipeline's metric order.
    public let metrics: [String: Double]
    public let epsilon: Double
    /// Whether the solver and the divergence's Sinkhorn runs converged.
    public let converged: Bool
    /// Fitting time of the map.
    public let seconds: Double
    /// `Metrics.displacementDimensionality` of the map on the test control cells: how many
    /// features it moves, on average (descriptive, not ranked).
    public let displacementDimensionality: Double
    /// The 75th percentile over those cells of the number of features moved (the sparsity
    /// paper's second figure); nil in evaluations written before it existed.
    public let displacementDimensionalityP75: Double?
    /// `Metrics.movedFeatureRecovery` against the true images, where the data has them
    /// (`data.true_map`); nil otherwise, or when nothing moved.
    public let movedPrecision: Double?
    public let movedRecall: Double?
    /// The features the map moves most on the test control cells (`Metrics.mostMovedFeatures`).
    public let mostMovedFeatures: [MovedFeature]
    /// Each two-cloud metric of the map's prediction for the half sample's control cells against
    /// its second half of treated cells (`HalfSample`), the scale of the noise ceiling; nil in
    /// evaluations written before it existed or with fewer than 4 held-out treated cells.
    public let halfSampleMetrics: [String: Double]?
    /// The solver's own numbers (`TransportMap.diagnostics`), e.g. the sparse ICNN's final λ.
    public let diagnostics: [String: Double]
    /// Every Sinkhorn run of the fit (`TransportMap.solverSteps`), for `steps.csv`.
    public let solverSteps: [SolverStep]
    /// Each test control cell's retained mass under the map's plan (`TransportMap.retainedMass`),
    /// in the order of the split's `testControl`; nil unless asked for (`report.mass_by`) or
    /// where the map cannot say.
    public var retainedMass: [Double]? = nil
    /// Per group of `report.mass_by`: the Sinkhorn divergence between the prediction for the
    /// group's test control cells and the group's test treated cells (at the record's ε); groups
    /// with fewer than 2 cells on a side are left out. nil unless asked for.
    public var groupDivergence: [String: Double]? = nil
    /// The first two principal components of the test control cells, the test treated cells
    /// and the prediction, for the report's scatter plots.
    public let preview: Preview

    public struct Preview: Codable, Sendable, Equatable {
        public let control: [[Float]]
        public let treated: [[Float]]
        public let predicted: [[Float]]
    }
}
