import Foundation
import LinearAlgebra

/// Options of the log-domain Sinkhorn solver. Defaults follow OTT-JAX.
public struct SinkhornOptions: Sendable, Codable, Equatable {
    /// Dense caches the n×m cost (and its transpose); online recomputes blocks every iteration.
    public enum Mode: String, Sendable, Codable, CaseIterable { case automatic, dense, online }

    public var epsilon: EpsilonChoice = .auto
    /// Stop when the L1 error of the column marginal is below this.
    public var threshold: Double = 1e-3
    public var maxIterations: Int = 2000
    public var mode: Mode = .automatic
    /// `automatic` switches to online above this many cost entries (n·m).
    public var denseEntryLimit: Int = 1 << 24
    /// Convergence accelerators (none by default, as OTT-JAX). They act on the two-cloud solve
    /// (`solve`, and the cross term of a divergence); the symmetric solves of a divergence
    /// already average their updates and do not use them.
    public var momentum: SinkhornMomentum?
    public var epsilonScaling: SinkhornEpsilonScaling?
    public var anderson: SinkhornAnderson?

    public init(epsilon: EpsilonChoice = .auto, threshold: Double = 1e-3, maxIterations: Int = 2000,
                mode: Mode = .automatic) {
        self.epsilon = epsilon
        self.threshold = threshold
        self.maxIterations = maxIterations
        self.mode = mode
    }
}

/// Dual potentials to start Sinkhorn from (the KL convention of `SinkhornResult`), e.g. those of
/// a nearby problem already solved.
public struct SinkhornPotentials<Scalar: BLASScalar>: Sendable {
    public var f: [Scalar]
    public var g: [Scalar]

    public init(f: [Scalar], g: [Scalar]) {
        self.f = f
        self.g = g
    }
}

/// Dual potentials and diagnostics of one entropic OT problem
/// min ⟨C, P⟩ + ε·KL(P | a⊗b) with uniform a, b, where P_ij = a_i b_j exp((f_i + g_j − C_ij)/ε).
public struct SinkhornResult<Scalar: BLASScalar>: Sendable, Equatable, Codable {
    public let f: [Scalar]
    public let g: [Scalar]
    public let epsilon: Double
    /// The dual objective ⟨f, a⟩ + ⟨g, b⟩ + ε(1 − ΣP), OTT-JAX's `reg_ot_cost`.
    public let regOTCost: Double
    public let iterations: Int
    public let converged: Bool
    /// L1 error of the column marginal at the returned potentials.
    public let marginalError: Double
}

/// Log-domain Sinkhorn on point clouds, with the squared-Euclidean cost unless told otherwise.
///
/// Each iteration updates f (making the row marginal exact), then computes the g-update
/// g̃ = −ε·LSE_i[(f_i + ε log a_i − C_ij)/ε]; the column marginal of (f, g) is
/// b_j·exp((g_j − g̃_j)/ε), whose L1 error against b is the convergence test, before g ← g̃.
/// Row-wise log-sum-exps run in parallel blocks of rows.
public enum Sinkhorn {
    /// `cost` (default ‖x − y‖²) is the ground cost; `.auto` ε is then 0.05 × the std of that
    /// cost's matrix, as OTT-JAX's `PointCloud` with that `cost_fn`.
    public static func solve(
        source x: Matrix<Double>, target y: Matrix<Double>, options: SinkhornOptions = SinkhornOptions(),
        warmStart: SinkhornPotentials<Double>? = nil, cost: GroundCost = .squaredEuclidean
    ) throws -> SinkhornResult<Double> {
        try solveGeneric(x, y, options, warmStart: warmStart, cost: cost)
    }

    public static func solve(
        source x: Matrix<Float>, target y: Matrix<Float>, options: SinkhornOptions = SinkhornOptions(),
        warmStart: SinkhornPotentials<Float>? = nil, cost: GroundCost = .squaredEuclidean
    ) throws -> SinkhornResult<Float> {
        try solveGeneric(x, y, options, warmStart: warmStart, cost: cost)
    }

    /// The symmetric problem OT_ε(x, x), solved with the averaged update f ← ½(f + T(f)).
    public static func solveSymmetric(
        _ x: Matrix<Double>, options: SinkhornOptions = SinkhornOptions(), cost: GroundCost = .squaredEuclidean
    ) throws -> SinkhornResult<Double> {
        try solveSymmetricGeneric(x, options, cost: cost)
    }

    public static func solveSymmetric(
        _ x: Matrix<Float>, options: SinkhornOptions = SinkhornOptions(), cost: GroundCost = .squaredEuclidean
    ) throws -> SinkhornResult<Float> {
        try solveSymmetricGeneric(x, options, cost: cost)
    }

    static func validate<Scalar: TransportScalar>(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>) throws {
        guard x.rows > 0 else { throw TransportError.emptyCloud("source") }
        guard y.rows > 0 else { throw TransportError.emptyCloud("target") }
        guard x.cols == y.cols else { throw TransportError.dimensionMismatch(source: x.cols, target: y.cols) }
        guard x.allFinite else { throw TransportError.nonFinite("source") }
        guard y.allFinite else { throw TransportError.nonFinite("target") }
    }

    /// Whether the solver caches an n × m cost matrix whole (rather than recomputing blocks).
    static func keepsDense(rows: Int, cols: Int, _ options: SinkhornOptions) -> Bool {
        switch options.mode {
        case .dense: return true
        case .online: return false
        case .automatic: return rows * cols <= options.denseEntryLimit
        }
    }

    static func costRows<Scalar: TransportScalar>(
        _ cost: any CostRowSource<Scalar>, _ options: SinkhornOptions
    ) -> CostRows<Scalar> {
        keepsDense(rows: cost.rows, cols: cost.cols, options) ? .dense(cost.matrix()) : .online(cost)
    }

    /// The cost between `x` and `y` as the solver reads it: without a gemm path and within the
    /// dense limit, computed once (on every core) and kept, since the default ε, C and Cᵀ (and
    /// each run of an ε search) would otherwise evaluate every h(x_i − y_j) again.
    static func preparedCost<Scalar: TransportScalar>(
        _ x: Matrix<Scalar>, _ y: Matrix<Scalar>, _ groundCost: GroundCost, _ options: SinkhornOptions
    ) -> any CostRowSource<Scalar> {
        let cost = groundCost.rows(x, y)
        guard groundCost != .squaredEuclidean, keepsDense(rows: cost.rows, cols: cost.cols, options) else { return cost }
        return PrecomputedCost(values: cost.matrix())
    }

    static func solveGeneric<Scalar: TransportScalar>(
        _ x: Matrix<Scalar>, _ y: Matrix<Scalar>, _ options: SinkhornOptions,
        warmStart: SinkhornPotentials<Scalar>? = nil, cost groundCost: GroundCost = .squaredEuclidean
    ) throws -> SinkhornResult<Scalar> {
        try validate(x, y)
        _ = try groundCost.validated()
        if let warmStart {
            guard warmStart.f.count == x.rows, warmStart.g.count == y.rows,
                  warmStart.f.allSatisfy(\.isFinite), warmStart.g.allSatisfy(\.isFinite) else {
                throw TransportError.invalidWarmStart(sourcePoints: x.rows, targetPoints: y.rows)
            }
        }
        let cost = preparedCost(x, y, groundCost, options)
        return try iterate(cost, epsilon: try options.epsilon.resolve(for: cost), options, warmStart: warmStart)
    }

    /// The Sinkhorn loop on a prepared cost with uniform weights, from `warmStart` or zero.
    static func iterate<Scalar: TransportScalar>(
        _ cost: any CostRowSource<Scalar>, epsilon: Double, _ options: SinkhornOptions,
        warmStart: SinkhornPotentials<Scalar>?
    ) throws -> SinkhornResult<Scalar> {
        let rowsOfC = costRows(cost, options)
        let rowsOfCT = costRows(cost.transposedSource, options)
        let n = cost.rows, m = cost.cols
        let logA = -Foundation.log(Double(n)), logB = -Foundation.log(Double(m))
        // The first update recomputes f from g; a warm f only serves as its log-sum-exp guess.
        var f = warmStart?.f ?? [Scalar](repeating: 0, count: n)
        var g = warmStart?.g ?? [Scalar](repeating: 0, count: m)
        let momentum = try options.momentum?.validated()
        let scaling = try options.epsilonScaling?.validated()
        var anderson = try options.anderson.map { AndersonHistory<Scalar>(try $0.validated()) }
        var adaptiveWeight: Double?
        var errors: [Double] = []
        var progress = Progress()
        while progress.beginIteration(limit: options.maxIterations) {
            let t = progress.iterations
            let stepEpsilon = scaling?.epsilon(at: t - 1, target: epsilon) ?? epsilon
            if var history = anderson {
                if history.extrapolates(at: t), let extrapolated = history.extrapolation() { g = extrapolated }
                history.recordInput(g)
                anderson = history
            }
            let omega = momentum?.weight(at: t, errors: errors, adaptiveWeight: &adaptiveWeight) ?? 1
            let fNext = softminUpdate(rowsOfC, other: g, logWeight: logB, epsilon: stepEpsilon, previous: f)
            f = omega == 1 ? fNext : relaxed(f, fNext, omega)
            let gNext = softminUpdate(rowsOfCT, other: f, logWeight: logA, epsilon: stepEpsilon, previous: g)
            let marginal = marginalErrorAndMass(current: g, next: gNext, logWeight: logB, epsilon: stepEpsilon)
            errors.append(marginal.0)
            if progress.record(marginal, threshold: options.threshold, final: stepEpsilon == epsilon) { break }
            g = omega == 1 ? gNext : relaxed(g, gNext, omega)
            anderson?.recordOutput(g)
        }
        let objective = dot(f, logWeight: logA) + dot(g, logWeight: logB) + epsilon * (1 - progress.mass)
        return progress.result(f: f, g: g, epsilon: epsilon, regOTCost: objective)
    }

    /// (1 − ω)·old + ω·update, entry by entry; a non-finite old entry counts as 0 (OTT-JAX).
    private static func relaxed<Scalar: TransportScalar>(_ old: [Scalar], _ update: [Scalar], _ omega: Double) -> [Scalar] {
        let w = Scalar(omega), keep = Scalar(1 - omega)
        return zip(old, update).map { o, u in keep * (o.isFinite ? o : 0) + w * u }
    }

    /// `prepared` is `preparedCost(x, x, groundCost, options)` when the caller solves several ε on
    /// the same cloud (the ε search).
    static func solveSymmetricGeneric<Scalar: TransportScalar>(
        _ x: Matrix<Scalar>, _ options: SinkhornOptions, cost groundCost: GroundCost = .squaredEuclidean,
        prepared: (any CostRowSource<Scalar>)? = nil
    ) throws -> SinkhornResult<Scalar> {
        try validate(x, x)
        _ = try groundCost.validated()
        let cost = prepared ?? preparedCost(x, x, groundCost, options)
        let epsilon = try options.epsilon.resolve(for: cost)
        let rowsOfC = costRows(cost, options)
        let logA = -Foundation.log(Double(x.rows))
        var f = [Scalar](repeating: 0, count: x.rows)
        var progress = Progress()
        while progress.beginIteration(limit: options.maxIterations) {
            let next = softminUpdate(rowsOfC, other: f, logWeight: logA, epsilon: epsilon, previous: f)
            let marginal = marginalErrorAndMass(current: f, next: next, logWeight: logA, epsilon: epsilon)
            if progress.record(marginal, threshold: options.threshold, final: true) { break }
            for i in f.indices { f[i] = (f[i] + next[i]) / 2 }
        }
        let objective = 2 * dot(f, logWeight: logA) + epsilon * (1 - progress.mass)
        return progress.result(f: f, g: f, epsilon: epsilon, regOTCost: objective)
    }

    /// Iteration count, last marginal error and mass, and whether the threshold was met:
    /// the bookkeeping both solve loops share.
    private struct Progress {
        var iterations = 0
        var converged = false
        var error = Double.infinity
        var mass = 1.0

        /// Counts one more iteration; false once `limit` iterations have run.
        mutating func beginIteration(limit: Int) -> Bool {
            guard iterations < limit else { return false }
            iterations += 1
            return true
        }

        /// Records the marginal measured this iteration; true when it meets `threshold` at the
        /// `final` problem (not at an ε still being scaled down).
        mutating func record(_ marginal: (error: Double, mass: Double), threshold: Double, final: Bool) -> Bool {
            (error, mass) = marginal
            converged = final && error < threshold
            return converged
        }

        func result<Scalar: TransportScalar>(f: [Scalar], g: [Scalar], epsilon: Double, regOTCost: Double) -> SinkhornResult<Scalar> {
            SinkhornResult(f: f, g: g, epsilon: epsilon, regOTCost: regOTCost, iterations: iterations,
                           converged: converged, marginalError: error)
        }
    }

    /// ⟨p, w⟩ with uniform weights w = exp(logWeight), in Double.
    private static func dot<Scalar: TransportScalar>(_ p: [Scalar], logWeight: Double) -> Double {
        Foundation.exp(logWeight) * p.reduce(0.0) { $0 + Double($1) }
    }

    /// With `next` the softmin update of the side whose potential is `current`, the marginal
    /// on that side is w·exp((current − next)/ε): returns its L1 error against w and its mass.
    private static func marginalErrorAndMass<Scalar: TransportScalar>(
        current: [Scalar], next: [Scalar], logWeight: Double, epsilon: Double
    ) -> (Double, Double) {
        let weight = Foundation.exp(logWeight)
        var error = 0.0, mass = 0.0
        for (c, n) in zip(current, next) {
            let ratio = Foundation.exp((Double(c) - Double(n)) / epsilon)
            error += weight * abs(ratio - 1)
            mass += weight * ratio
        }
        return (error, mass)
    }

    /// h_i = −ε·LSE_j[(p_j + ε·logWeight − C_ij)/ε] for every row i of `cost`.
    ///
    /// `previous` holds the last values of h (same length): −h_i/ε is then a close guess of row
    /// i's log-sum-exp, which lets the kernel do one pass instead of two (see `logSumExp`).
    static func softminUpdate<Scalar: TransportScalar>(
        _ cost: CostRows<Scalar>, other potential: [Scalar], logWeight: Double, epsilon: Double,
        previous: [Scalar]
    ) -> [Scalar] {
        let n = cost.rows, m = cost.cols
        precondition(previous.count == n, "one previous value per row")
        let inverseEpsilon = Scalar(1 / epsilon)
        let shifted = potential.map { ($0 + Scalar(epsilon * logWeight)) * inverseEpsilon }
        var result = [Scalar](repeating: 0, count: n)
        result.withUnsafeMutableBufferPointer { output in
            shifted.withUnsafeBufferPointer { offsets in
                let shared = UncheckedSendable((output, offsets))
                // Waking the second core costs tens of µs: worth it only for ≥ 2¹⁶ entries a
                // block (small batches, as the neural estimators solve, stay on one thread).
                parallelForRanges(count: n, minimumBlock: Swift.max(1, (1 << 16) / Swift.max(1, m))) { range in
                    let (output, offsets) = shared.value
                    var values = [Scalar](repeating: 0, count: m)
                    values.withUnsafeMutableBufferPointer { scratch in
                        guard let scratch = scratch.baseAddress, let offsets = offsets.baseAddress else { return }
                        cost.forEachBlock(in: range) { first, count, rows in
                            for r in 0..<count {
                                let lse = Scalar.logSumExp(
                                    cost: rows + r * m, offsets: offsets, count: m, inverseEpsilon: inverseEpsilon,
                                    guess: -previous[first + r] * inverseEpsilon, scratch: scratch)
                                output[first + r] = -Scalar(epsilon) * lse
                            }
                        }
                    }
                }
            }
        }
        return result
    }
}
