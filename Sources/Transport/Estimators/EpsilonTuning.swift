import Foundation
import LinearAlgebra

/// How ε is tuned on the target sample alone (the ProgOT paper's Algorithm 4, first part).
///
/// The training target is split at random into a fitting part y_fit and a held-out part
/// y_eval. For each scale s, the entropic map of the (y_fit, y_fit) problem with
/// ε = s · ε₀ (ε₀ = OTT's default for that geometry, 0.05 × the std of its cost matrix) is
/// applied to y_eval; since y_fit and y_eval come from the same law, the best map is the
/// identity, and the scale with the smallest mean squared error ‖T(y) − y‖² on y_eval wins.
/// The symmetric problem is solved with the averaged update (its potentials f = g).
public struct EpsilonTuning: Sendable, Codable, Equatable {
    /// Candidate multiples of ε₀, tried in order; ties go to the first.
    public var scales: [Double]
    /// Fraction of the target points held out to score each scale.
    public var heldOutFraction: Double

    /// 2⁻⁵ … 2⁴ (ten scales, a factor 2 apart) around OTT's default, and 10 % held out.
    public static let defaultScales: [Double] = (-5...4).map { Foundation.pow(2.0, Double($0)) }

    public init(scales: [Double] = EpsilonTuning.defaultScales, heldOutFraction: Double = 0.1) {
        self.scales = scales
        self.heldOutFraction = heldOutFraction
    }

    /// The outcome: the chosen ε and the score of every scale.
    public struct Selection: Sendable, Codable, Equatable {
        /// ε₀ of the (y_fit, y_fit) geometry.
        public let baseEpsilon: Double
        public let scale: Double
        public var epsilon: Double { scale * baseEpsilon }
        /// Held-out mean squared error per scale, in the order of `EpsilonTuning.scales`.
        public let errors: [Double]
        /// Whether every Sinkhorn run of the search converged.
        public let converged: Bool
        /// One record per scale, in the order of `errors`.
        public let runs: [SolverStep]
    }

    func validate() throws {
        guard !scales.isEmpty, scales.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw TransportError.invalidParameter("epsilon scales must be a non-empty list of positive numbers")
        }
        guard heldOutFraction > 0, heldOutFraction < 1 else {
            throw TransportError.invalidParameter("held-out fraction must be strictly between 0 and 1, got \(heldOutFraction)")
        }
    }

    /// Runs the search on the training target `y` (Double; the generic version is compiled
    /// for both precisions inside this module).
    public func select(
        target y: Matrix<Double>, sinkhorn: SinkhornOptions, rng: inout SeededRNG, cost: GroundCost = .squaredEuclidean
    ) throws -> Selection {
        try select(generic: y, sinkhorn: sinkhorn, rng: &rng, cost: cost)
    }

    func select<Scalar: TransportScalar>(
        target y: Matrix<Scalar>, sinkhorn: SinkhornOptions, rng: inout SeededRNG,
        cost: GroundCost = .squaredEuclidean
    ) throws -> Selection {
        try select(generic: y, sinkhorn: sinkhorn, rng: &rng, cost: cost)
    }

    /// Runs the search on the training target `y`.
    private func select<Scalar: TransportScalar>(
        generic y: Matrix<Scalar>, sinkhorn: SinkhornOptions, rng: inout SeededRNG, cost: GroundCost
    ) throws -> Selection {
        try validate()
        let heldOut = Int((heldOutFraction * Double(y.rows)).rounded())
        guard heldOut >= 1, y.rows - heldOut >= 2 else {
            throw TransportError.invalidParameter(
                "tuning epsilon needs at least 1 held-out and 2 fitting target points; the target has \(y.rows)")
        }
        let order = rng.permutation(y.rows)
        return try select(fitting: y.rows(at: Array(order[heldOut...])),
                          evaluation: y.rows(at: Array(order[..<heldOut])), sinkhorn: sinkhorn, cost: cost)
    }

    /// Scores every scale with a given split of the target.
    func select<Scalar: TransportScalar>(
        fitting: Matrix<Scalar>, evaluation: Matrix<Scalar>, sinkhorn: SinkhornOptions,
        cost: GroundCost = .squaredEuclidean
    ) throws -> Selection {
        let prepared = Sinkhorn.preparedCost(fitting, fitting, cost, sinkhorn)
        let baseEpsilon = try EpsilonChoice.auto.resolve(for: prepared)
        // Every scale maps the same held-out points: without a gemm path (and within the dense
        // limit), their cost rows once.
        let evaluationCost = cost == .squaredEuclidean || !Sinkhorn.keepsDense(rows: evaluation.rows, cols: fitting.rows, sinkhorn)
            ? nil : cost.rows(evaluation, fitting).matrix()
        var errors: [Double] = []
        var runs: [SolverStep] = []
        for (index, scale) in scales.enumerated() {
            var options = sinkhorn
            options.epsilon = .fixed(scale * baseEpsilon)
            let solution = try Sinkhorn.solveSymmetricGeneric(fitting, options, cost: cost, prepared: prepared)
            let mapped = try EntropicMap(solution: solution, target: fitting, cost: cost)
                .transport(evaluation, precomputedCost: evaluationCost)
            errors.append(meanSquaredDistance(mapped, evaluation))
            runs.append(SolverStep(.epsilonSearch, index: index + 1, result: solution, threshold: sinkhorn.threshold,
                                   scale: scale, heldOutError: errors[index]))
        }
        let best = errors.indices.min { errors[$0] < errors[$1] } ?? 0
        return Selection(baseEpsilon: baseEpsilon, scale: scales[best], errors: errors,
                         converged: runs.allSatisfy(\.converged), runs: runs)
    }
}

/// Mean over rows of ‖a_i − b_i‖², in Double.
func meanSquaredDistance<Scalar: TransportScalar>(_ a: Matrix<Scalar>, _ b: Matrix<Scalar>) -> Double {
    precondition(a.rows == b.rows && a.cols == b.cols)
    var total = 0.0
    for (u, v) in zip(a.storage, b.storage) {
        let difference = Double(u) - Double(v)
        total += difference * difference
    }
    return total / Double(Swift.max(1, a.rows))
}
