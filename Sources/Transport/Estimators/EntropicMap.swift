import Foundation
import LinearAlgebra

/// The entropic OT map of Pooladian & Niles-Weed (2021):
/// T(x) = Σ_j softmax_j((g_j − ‖x − y_j‖²)/ε) · y_j, the barycentric projection of the
/// entropic plan, extended to new points x through the target potential g.
///
/// Uniform target weights cancel inside the softmax. New points are mapped in blocks: one gemm
/// for the cost block, a row-wise softmax, one gemm for the weighted sum of target points.
///
/// For another translation-invariant cost h(x − y) the map is that of Cuturi, Klein & Ablin
/// (2023, eq. 7): T(x) = x − ∇h*(Σ_j p_j(x) ∇h(x − y_j)), p_j(x) = softmax_j((g_j − h(x − y_j))/ε),
/// which for h = ‖·‖² is the barycentric projection above.
public struct EntropicMap<Scalar: TransportScalar>: TransportMap, Equatable {
    public let target: Matrix<Scalar>
    /// The ground cost the potential was solved for.
    public let cost: GroundCost
    public let g: [Scalar]
    public let epsilon: Double
    /// Whether the Sinkhorn run that produced `g` (and the ε search, if any) converged.
    public let converged: Bool
    /// The ε search that chose `epsilon`, when it was tuned.
    public let epsilonSelection: EpsilonTuning.Selection?
    /// The Sinkhorn run that produced `g`, when the fit recorded it.
    public let run: SolverStep?
    /// The source side of an unbalanced fit (τ_a < 1), for `retainedMass`; nil when the source
    /// marginal was a constraint.
    public var sourceMarginal: SourceMarginal?

    /// τ_a and the number of source points n (weights a = 1/n) of an unbalanced fit.
    public struct SourceMarginal: Sendable, Codable, Equatable {
        public let tau: Double
        public let count: Int

        public init(tau: Double, count: Int) {
            self.tau = tau
            self.count = count
        }
    }

    public init(target: Matrix<Scalar>, g: [Scalar], epsilon: Double, converged: Bool = true,
                epsilonSelection: EpsilonTuning.Selection? = nil, run: SolverStep? = nil,
                cost: GroundCost = .squaredEuclidean) {
        precondition(g.count == target.rows, "one potential value per target point")
        self.target = target
        self.cost = cost
        self.g = g
        self.epsilon = epsilon
        self.converged = converged
        self.epsilonSelection = epsilonSelection
        self.run = run
    }

    /// The map of a solved problem whose target cloud was `target`; `threshold` (the run's
    /// stopping threshold) records the run in `solverSteps`.
    public init(solution: SinkhornResult<Scalar>, target: Matrix<Scalar>, threshold: Double? = nil,
                role: SolverStep.Role = .transport, cost: GroundCost = .squaredEuclidean) {
        self.init(target: target, g: solution.g, epsilon: solution.epsilon, converged: solution.converged,
                  run: threshold.map { SolverStep(role, index: 1, result: solution, threshold: $0) }, cost: cost)
    }

    public var solverSteps: [SolverStep] {
        (epsilonSelection?.runs ?? []) + (run.map { [$0] } ?? [])
    }

    /// ε, and with a tuned ε its chosen scale; the iterations of the recorded run.
    public var diagnostics: [String: Double] {
        var values = ["epsilon": epsilon]
        if let epsilonSelection { values["epsilon_scale"] = epsilonSelection.scale }
        if let run { values["iterations"] = Double(run.iterations) }
        return values
    }

    /// Maps each row of `points`.
    /// - Throws: `TransportError.dimensionMismatch` or `.nonFinite` for bad points.
    public func transport(_ points: Matrix<Scalar>) throws -> Matrix<Scalar> {
        try transport(points, precomputedCost: nil)
    }

    /// The retained mass of each point x as a source point of the fitted plan, extended through
    /// the target potential as OTT-JAX extends f: with h(x) = −ε·LSE_j[(g_j + ε log b_j −
    /// c(x, y_j))/ε] (the c-transform of g) and the unbalanced half-step f̂(x) = τ_a·h(x) +
    /// (τ_a − 1)·ε·log a, the row mass is a·exp((f̂(x) − h(x))/ε), times n:
    /// exp((τ_a − 1)·(h(x)/ε − log n)). At the fitted source points it is the plan's row mass × n.
    /// All 1 when the source side was balanced.
    public func retainedMass(_ points: Matrix<Scalar>) throws -> [Double]? {
        try validateQuery(points, dimension: target.cols)
        guard let sourceMarginal, sourceMarginal.tau < 1 else { return [Double](repeating: 1, count: points.rows) }
        let costs = cost.rows(points, target)
        let h = Sinkhorn.softminUpdate(.online(costs), other: g, logWeight: -Foundation.log(Double(target.rows)), epsilon: epsilon,
                                       previous: [Scalar](repeating: 0, count: points.rows))
        let logN = Foundation.log(Double(sourceMarginal.count))
        return h.map { Foundation.exp((sourceMarginal.tau - 1) * (Double($0) / epsilon - logN)) }
    }

    /// `precomputedCost`, when given, is the cost matrix between `points` and the target (the ε
    /// search maps the same held-out points at every ε); squared-Euclidean maps ignore it.
    func transport(_ points: Matrix<Scalar>, precomputedCost: Matrix<Scalar>?) throws -> Matrix<Scalar> {
        try validateQuery(points, dimension: target.cols)
        let rows = precomputedCost.map { PrecomputedCost(values: $0) }
        switch cost {
        case .squaredEuclidean: return barycentricProjection(points)
        case .pNorm(let p): return translationInvariantTransport(points, cost: PNormCost(p: p), rows: rows)
        case .elasticL1(let lambda): return translationInvariantTransport(points, cost: ElasticL1Cost(lambda: lambda), rows: rows)
        case .elasticSTVS(let lambda, let gamma):
            return translationInvariantTransport(points, cost: ElasticSTVSCost(lambda: lambda, gamma: gamma), rows: rows)
        }
    }

    private func barycentricProjection(_ points: Matrix<Scalar>) -> Matrix<Scalar> {
        let m = target.rows, d = target.cols
        let cost = SquaredEuclideanCost(points, target)
        let blockRows = Swift.max(1, (1 << 15) / Swift.max(1, m))
        var result = Matrix<Scalar>(rows: points.rows, cols: d)
        var weights = [Scalar](repeating: 0, count: blockRows * m)
        let inverseEpsilon = Scalar(1 / epsilon)
        let offsets = g.map { $0 * inverseEpsilon }
        var start = 0
        while start < points.rows {
            let end = Swift.min(points.rows, start + blockRows)
            let count = end - start
            weights.withUnsafeMutableBufferPointer { block in
                guard let base = block.baseAddress else { return }
                cost.fillRows(start..<end, into: base)
                offsets.withUnsafeBufferPointer { offsets in
                    guard let offsets = offsets.baseAddress else { return }
                    for r in 0..<count {
                        Scalar.softmaxInPlace(cost: base + r * m, offsets: offsets, count: m, inverseEpsilon: inverseEpsilon)
                    }
                }
                target.withUnsafeBufferPointer { y in
                    result.withUnsafeMutableBufferPointer { out in
                        guard let yBase = y.baseAddress, let outBase = out.baseAddress else { return }
                        Scalar.gemm(transposeA: false, transposeB: false, m: count, n: d, k: m,
                                    alpha: 1, a: base, lda: m, b: yBase, ldb: d,
                                    beta: 0, c: outBase + start * d, ldc: d)
                    }
                }
            }
            start = end
        }
        return result
    }

    /// x − ∇h*(Σ_j p_j(x) ∇h(x − y_j)) for tiles of query rows, on every core: the softmax weights
    /// p from cost rows, then one pass over the targets per tile, each target row read once for
    /// all the tile's queries. The sums run over j in order, in Double.
    func translationInvariantTransport<Cost: CoordinateCost>(
        _ points: Matrix<Scalar>, cost coordinates: Cost, rows: PrecomputedCost<Scalar>? = nil
    ) -> Matrix<Scalar> {
        let m = target.rows, d = target.cols, n = points.rows
        var result = Matrix<Scalar>(rows: n, cols: d)
        guard n > 0, m > 0, d > 0 else { return result }
        let costRows: any CostRowSource<Scalar> = rows ?? TranslationInvariantCostRows(points, target, cost: coordinates)
        let targetRows = UncheckedSendable(widened(target)), queries = UncheckedSendable(widened(points))
        defer { targetRows.value.deallocate(); queries.value.deallocate() }
        let inverseEpsilon = Scalar(1 / epsilon)
        let offsets = g.map { $0 * inverseEpsilon }
        let tile = 8
        result.withUnsafeMutableBufferPointer { output in
            guard let output = output.baseAddress else { return }
            let shared = UncheckedSendable(output)
            parallelForRanges(count: n, minimumBlock: tile) { range in
                let weights = UnsafeMutablePointer<Scalar>.allocate(capacity: tile * m)
                let wide = UnsafeMutablePointer<Double>.allocate(capacity: tile * m)
                let gradients = UnsafeMutablePointer<Double>.allocate(capacity: tile * d)
                let moved = UnsafeMutablePointer<Double>.allocate(capacity: d)
                defer { weights.deallocate(); wide.deallocate(); gradients.deallocate(); moved.deallocate() }
                let targetRows = targetRows.value, queries = queries.value
                var first = range.lowerBound
                while first < range.upperBound {
                    let count = Swift.min(tile, range.upperBound - first)
                    costRows.fillRows(first..<(first + count), into: weights)
                    offsets.withUnsafeBufferPointer { offsets in
                        guard let offsets = offsets.baseAddress else { return }
                        for r in 0..<count {
                            Scalar.softmaxInPlace(cost: weights + r * m, offsets: offsets, count: m, inverseEpsilon: inverseEpsilon)
                        }
                    }
                    Scalar.widen(weights, into: wide, count: count * m)
                    gradients.update(repeating: 0, count: count * d)
                    for j in 0..<m {
                        let y = targetRows + j * d
                        for r in 0..<count {
                            let weight = wide[r * m + j]
                            coordinates.accumulateDerivatives(weight, queries + (first + r) * d, y, into: gradients + r * d, count: d)
                        }
                    }
                    for r in 0..<count {
                        coordinates.conjugateStep(queries + (first + r) * d, gradients + r * d, into: moved, count: d)
                        Scalar.narrow(moved, into: shared.value + (first + r) * d, count: d)
                    }
                    first += count
                }
            }
        }
        return result
    }

    /// The points in Double, row-major, in a buffer the caller deallocates.
    private func widened(_ points: Matrix<Scalar>) -> UnsafeMutablePointer<Double> {
        let values = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, points.storage.count))
        points.withUnsafeBufferPointer { source in
            if let source = source.baseAddress { Scalar.widen(source, into: values, count: points.storage.count) }
        }
        return values
    }
}

extension EntropicMap {
    private enum CodingKeys: String, CodingKey { case target, cost, g, epsilon, converged, epsilonSelection, run, sourceMarginal }

    /// Maps written before costs existed have no `cost`: they are squared-Euclidean.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(target: try container.decode(Matrix<Scalar>.self, forKey: .target),
                  g: try container.decode([Scalar].self, forKey: .g),
                  epsilon: try container.decode(Double.self, forKey: .epsilon),
                  converged: try container.decode(Bool.self, forKey: .converged),
                  epsilonSelection: try container.decodeIfPresent(EpsilonTuning.Selection.self, forKey: .epsilonSelection),
                  run: try container.decodeIfPresent(SolverStep.self, forKey: .run),
                  cost: try container.decodeIfPresent(GroundCost.self, forKey: .cost) ?? .squaredEuclidean)
        sourceMarginal = try container.decodeIfPresent(SourceMarginal.self, forKey: .sourceMarginal)
    }
}
