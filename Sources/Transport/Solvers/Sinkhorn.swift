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
    /// Unbalanced OT (OTT-JAX's `LinearProblem(tau_a, tau_b)`): the marginal constraint on the
    /// source (a) and target (b) side becomes a KL penalty of strength ρ = ε·τ/(1 − τ); τ = 1 is
    /// the balanced constraint. In (0, 1].
    public var tauA: Double = 1
    public var tauB: Double = 1

    public init(epsilon: EpsilonChoice = .auto, threshold: Double = 1e-3, maxIterations: Int = 2000,
                mode: Mode = .automatic, tauA: Double = 1, tauB: Double = 1) {
        self.epsilon = epsilon
        self.threshold = threshold
        self.maxIterations = maxIterations
        self.mode = mode
        self.tauA = tauA
        self.tauB = tauB
    }

    /// Whether both marginals are constraints (τ_a = τ_b = 1).
    public var isBalanced: Bool { tauA == 1 && tauB == 1 }

    /// - Throws: `TransportError.invalidParameter` for a τ outside (0, 1], or Anderson
    ///   acceleration with τ < 1 (its extrapolation is written for the balanced fixed point).
    public func validatedTaus() throws -> (a: Double, b: Double) {
        for (name, tau) in [("tau_a", tauA), ("tau_b", tauB)] where !(tau > 0 && tau <= 1) {
            throw TransportError.invalidParameter("\(name) must be in (0, 1] (1 is balanced), got \(tau)")
        }
        if !isBalanced, anderson != nil {
            throw TransportError.invalidParameter("anderson acceleration needs balanced OT (tau_a = tau_b = 1)")
        }
        return (tauA, tauB)
    }

    private enum CodingKeys: String, CodingKey {
        case epsilon, threshold, maxIterations, mode, denseEntryLimit, momentum, epsilonScaling, anderson, tauA, tauB
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        epsilon = try container.decode(EpsilonChoice.self, forKey: .epsilon)
        threshold = try container.decode(Double.self, forKey: .threshold)
        maxIterations = try container.decode(Int.self, forKey: .maxIterations)
        mode = try container.decode(Mode.self, forKey: .mode)
        denseEntryLimit = try container.decode(Int.self, forKey: .denseEntryLimit)
        momentum = try container.decodeIfPresent(SinkhornMomentum.self, forKey: .momentum)
        epsilonScaling = try container.decodeIfPresent(SinkhornEpsilonScaling.self, forKey: .epsilonScaling)
        anderson = try container.decodeIfPresent(SinkhornAnderson.self, forKey: .anderson)
        // Options written before unbalanced OT existed are balanced.
        tauA = try container.decodeIfPresent(Double.self, forKey: .tauA) ?? 1
        tauB = try container.decodeIfPresent(Double.self, forKey: .tauB) ?? 1
    }
}

/// The KL marginal penalty of unbalanced OT: ρ = ε·τ/(1 − τ) (OTT-JAX's `uf.rho`), infinite at
/// τ = 1.
func marginalPenalty(epsilon: Double, tau: Double) -> Double {
    tau >= 1 ? .infinity : epsilon * tau / (1 - tau)
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
/// min ⟨C, P⟩ + ε·KL(P | a⊗b) with uniform a, b, where P_ij = a_i b_j exp((f_i + g_j − C_ij)/ε);
/// unbalanced (τ < 1), the marginal constraints are KL penalties ρ·KL(P1 | a), ρ·KL(Pᵀ1 | b).
public struct SinkhornResult<Scalar: BLASScalar>: Sendable, Equatable, Codable {
    public let f: [Scalar]
    public let g: [Scalar]
    public let epsilon: Double
    /// OTT-JAX's `reg_ot_cost`: balanced, the dual objective ⟨f, a⟩ + ⟨g, b⟩ + ε(1 − ΣP);
    /// unbalanced, each side's ⟨f, a⟩ becomes −⟨φ*(−f), a⟩ with φ*(h) = ρ(e^{h/ρ} − 1)
    /// (Séjourné et al. 2019, eq. 15).
    public let regOTCost: Double
    public let iterations: Int
    public let converged: Bool
    /// The L1 error OTT-JAX tests: balanced, of the column marginal against b; unbalanced, the
    /// norm of the dual gradient, ‖P1 − a·e^{−f̄/ρ_a}‖₁ + ‖Pᵀ1 − b·e^{−ḡ/ρ_b}‖₁ (f̄, ḡ OTT's
    /// potentials, f + ε log a and g + ε log b).
    public let marginalError: Double
    /// ΣP at the returned potentials (1 for a balanced plan at convergence); nil in results
    /// written before it was recorded.
    public var planMass: Double? = nil
    /// P1 and Pᵀ1 (sums a and b when balanced; < a_i where source point i loses mass).
    public var rowMass: [Double]? = nil
    public var columnMass: [Double]? = nil
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
    ///
    /// Unbalanced (τ < 1), each half-step is OTT-JAX's: the softmin h is scaled,
    /// f̄ ← τ_a·(ε log a + h̄) in OTT's potentials f̄ = f + ε log a, that is
    /// f ← τ_a·h + (τ_a − 1)·ε·log a here; the test is the dual gradient's norm (`marginalError`).
    static func iterate<Scalar: TransportScalar>(
        _ cost: any CostRowSource<Scalar>, epsilon: Double, _ options: SinkhornOptions,
        warmStart: SinkhornPotentials<Scalar>?
    ) throws -> SinkhornResult<Scalar> {
        let taus = try options.validatedTaus()
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
        var planMarginals: (row: [Double], column: [Double])?
        while progress.beginIteration(limit: options.maxIterations) {
            let t = progress.iterations
            let stepEpsilon = scaling?.epsilon(at: t - 1, target: epsilon) ?? epsilon
            if var history = anderson {
                if history.extrapolates(at: t), let extrapolated = history.extrapolation() { g = extrapolated }
                history.recordInput(g)
                anderson = history
            }
            let omega = momentum?.weight(at: t, errors: errors, adaptiveWeight: &adaptiveWeight) ?? 1
            let fSoftmin = softminUpdate(rowsOfC, other: g, logWeight: logB, epsilon: stepEpsilon, previous: f)
            let fNext = scaled(fSoftmin, tau: taus.a, epsilon: stepEpsilon, logWeight: logA)
            f = omega == 1 ? fNext : relaxed(f, fNext, omega)
            let gSoftmin = softminUpdate(rowsOfCT, other: f, logWeight: logA, epsilon: stepEpsilon, previous: g)
            let marginal: (Double, Double)
            if options.isBalanced {
                marginal = marginalErrorAndMass(current: g, next: gSoftmin, logWeight: logB, epsilon: stepEpsilon)
            } else {
                let row = masses(current: f, softmin: fSoftmin, logWeight: logA, epsilon: stepEpsilon)
                let column = masses(current: g, softmin: gSoftmin, logWeight: logB, epsilon: stepEpsilon)
                planMarginals = (row, column)
                let error = gradientNorm(row, potential: f, tau: taus.a, epsilon: stepEpsilon, logWeight: logA)
                    + gradientNorm(column, potential: g, tau: taus.b, epsilon: stepEpsilon, logWeight: logB)
                marginal = (error, row.reduce(0, +))
            }
            errors.append(marginal.0)
            if progress.record(marginal, threshold: options.threshold, final: stepEpsilon == epsilon) { break }
            let gNext = scaled(gSoftmin, tau: taus.b, epsilon: stepEpsilon, logWeight: logB)
            g = omega == 1 ? gNext : relaxed(g, gNext, omega)
            anderson?.recordOutput(g)
        }
        let objective = marginalTerm(f, tau: taus.a, epsilon: epsilon, logWeight: logA)
            + marginalTerm(g, tau: taus.b, epsilon: epsilon, logWeight: logB) + epsilon * (1 - progress.mass)
        var result = progress.result(f: f, g: g, epsilon: epsilon, regOTCost: objective)
        result.planMass = progress.mass
        if let masses = planMarginals {
            result.rowMass = masses.row
            result.columnMass = masses.column
        }
        return result
    }

    /// τ·h + (τ − 1)·ε·log w: the unbalanced half-step from the softmin h (h itself at τ = 1).
    static func scaled<Scalar: TransportScalar>(_ softmin: [Scalar], tau: Double, epsilon: Double, logWeight: Double) -> [Scalar] {
        guard tau < 1 else { return softmin }
        let factor = Scalar(tau), shift = Scalar((tau - 1) * epsilon * logWeight)
        return softmin.map { factor * $0 + shift }
    }

    /// The plan's marginal on one side at (current, other): w·exp((current − h)/ε), with h the
    /// softmin of the other potential.
    private static func masses<Scalar: TransportScalar>(
        current: [Scalar], softmin: [Scalar], logWeight: Double, epsilon: Double
    ) -> [Double] {
        let weight = Foundation.exp(logWeight)
        return zip(current, softmin).map { weight * Foundation.exp((Double($0) - Double($1)) / epsilon) }
    }

    /// ‖marginal − w·exp(−(p + ε log w)/ρ)‖₁, OTT-JAX's `grad_of_marginal_fit` (w at τ = 1).
    private static func gradientNorm<Scalar: TransportScalar>(
        _ marginal: [Double], potential: [Scalar], tau: Double, epsilon: Double, logWeight: Double
    ) -> Double {
        let weight = Foundation.exp(logWeight), rho = marginalPenalty(epsilon: epsilon, tau: tau)
        var error = 0.0
        for (mass, p) in zip(marginal, potential) {
            let target = rho.isInfinite ? weight : weight * Foundation.exp(-(Double(p) + epsilon * logWeight) / rho)
            error += abs(mass - target)
        }
        return error
    }

    /// One side's term of `reg_ot_cost`: ⟨p, w⟩ when balanced, −⟨φ*(−p), w⟩ with
    /// φ*(h) = ρ(e^{h/ρ} − 1) when τ < 1 (OTT-JAX's `compute_kl_reg_cost`).
    static func marginalTerm<Scalar: TransportScalar>(_ p: [Scalar], tau: Double, epsilon: Double, logWeight: Double) -> Double {
        guard tau < 1 else { return dot(p, logWeight: logWeight) }
        let rho = marginalPenalty(epsilon: epsilon, tau: tau), weight = Foundation.exp(logWeight)
        return -weight * p.reduce(0.0) { $0 + rho * Foundation.expm1(-Double($1) / rho) }
    }

    /// (1 − ω)·old + ω·update, entry by entry; a non-finite old entry counts as 0 (OTT-JAX).
    private static func relaxed<Scalar: TransportScalar>(_ old: [Scalar], _ update: [Scalar], _ omega: Double) -> [Scalar] {
        let w = Scalar(omega), keep = Scalar(1 - omega)
        return zip(old, update).map { o, u in keep * (o.isFinite ? o : 0) + w * u }
    }

    /// `prepared` is `preparedCost(x, x, groundCost, options)` when the caller solves several ε on
    /// the same cloud (the ε search). Unbalanced, τ_a = τ_b is needed for the symmetric fixed
    /// point f = g (`SinkhornDivergence` solves the (x, x) problem as any other otherwise).
    static func solveSymmetricGeneric<Scalar: TransportScalar>(
        _ x: Matrix<Scalar>, _ options: SinkhornOptions, cost groundCost: GroundCost = .squaredEuclidean,
        prepared: (any CostRowSource<Scalar>)? = nil
    ) throws -> SinkhornResult<Scalar> {
        try validate(x, x)
        _ = try groundCost.validated()
        let taus = try options.validatedTaus()
        guard taus.a == taus.b else {
            throw TransportError.invalidParameter("a symmetric Sinkhorn problem needs tau_a = tau_b, got \(taus.a) and \(taus.b)")
        }
        let cost = prepared ?? preparedCost(x, x, groundCost, options)
        let epsilon = try options.epsilon.resolve(for: cost)
        let rowsOfC = costRows(cost, options)
        let logA = -Foundation.log(Double(x.rows))
        var f = [Scalar](repeating: 0, count: x.rows)
        var progress = Progress()
        var rowMass: [Double]?
        while progress.beginIteration(limit: options.maxIterations) {
            let softmin = softminUpdate(rowsOfC, other: f, logWeight: logA, epsilon: epsilon, previous: f)
            let marginal: (Double, Double)
            if options.isBalanced {
                marginal = marginalErrorAndMass(current: f, next: softmin, logWeight: logA, epsilon: epsilon)
            } else {
                let mass = masses(current: f, softmin: softmin, logWeight: logA, epsilon: epsilon)
                rowMass = mass
                marginal = (2 * gradientNorm(mass, potential: f, tau: taus.a, epsilon: epsilon, logWeight: logA), mass.reduce(0, +))
            }
            if progress.record(marginal, threshold: options.threshold, final: true) { break }
            let next = scaled(softmin, tau: taus.a, epsilon: epsilon, logWeight: logA)
            for i in f.indices { f[i] = (f[i] + next[i]) / 2 }
        }
        let objective = 2 * marginalTerm(f, tau: taus.a, epsilon: epsilon, logWeight: logA) + epsilon * (1 - progress.mass)
        var result = progress.result(f: f, g: f, epsilon: epsilon, regOTCost: objective)
        result.planMass = progress.mass
        result.rowMass = rowMass
        result.columnMass = rowMass
        return result
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
