import Foundation
import LinearAlgebra

/// What a Sinkhorn plan P_ij = a_i b_j exp((f_i + g_j − C_ij)/ε) (uniform a, b) looks like as a
/// coupling: the ProgOT paper's coupling-recovery measures (Kassraie et al. 2024, the "cost vs
/// entropy" figure and Table 2).
public struct CouplingStatistics: Sendable, Equatable, Codable {
    /// Σ_ij P_ij c(x_i, y_j).
    public let transportCost: Double
    /// −Σ_ij P_ij log P_ij (natural log; log(n·m) for the independent coupling, log n for a
    /// permutation).
    public let entropy: Double
    /// Σ_ij P_ij (1 at exact marginals).
    public let mass: Double
    /// For paired clouds (x_i belongs with y_i, n = m): Σ_i P_ii, 1 for the identity coupling.
    public let trace: Double?
    /// For paired clouds: KL(π* ‖ P) with π* = Id/n, Σ_i (1/n)·log((1/n)/P_ii).
    public let klFromIdentity: Double?

    /// The statistics of `solution`'s plan between `x` and `y` under `cost`, from its potentials,
    /// a block of rows at a time (the plan is never held whole), in Double.
    /// - Parameters:
    ///   - paired: x_i and y_i are a true pair (needs as many points in x as in y).
    ///   - solvedSource: the points the plan was solved from, when not x itself: ProgOT's last
    ///     step solves from x_{K−1}, whose rows are x's; the plan's entries then come from
    ///     c(x_{K−1,i}, y_j) and its transport cost from c(x_i, y_j).
    public static func compute(
        source x: Matrix<Double>, target y: Matrix<Double>, solution: SinkhornResult<Double>,
        cost: GroundCost = .squaredEuclidean, paired: Bool = false, solvedSource: Matrix<Double>? = nil
    ) throws -> CouplingStatistics {
        try computeGeneric(x, y, solution, cost, paired, solvedSource)
    }

    public static func compute(
        source x: Matrix<Float>, target y: Matrix<Float>, solution: SinkhornResult<Float>,
        cost: GroundCost = .squaredEuclidean, paired: Bool = false, solvedSource: Matrix<Float>? = nil
    ) throws -> CouplingStatistics {
        try computeGeneric(x, y, solution, cost, paired, solvedSource)
    }

    static func computeGeneric<Scalar: TransportScalar>(
        _ x: Matrix<Scalar>, _ y: Matrix<Scalar>, _ solution: SinkhornResult<Scalar>,
        _ groundCost: GroundCost, _ paired: Bool, _ solvedSource: Matrix<Scalar>?
    ) throws -> CouplingStatistics {
        try Sinkhorn.validate(x, y)
        if let solvedSource {
            guard solvedSource.rows == x.rows, solvedSource.cols == x.cols else {
                throw TransportError.invalidParameter(
                    "the solved source has \(solvedSource.rows) × \(solvedSource.cols) points, the source \(x.rows) × \(x.cols)")
            }
        }
        guard solution.f.count == x.rows, solution.g.count == y.rows else {
            throw TransportError.invalidWarmStart(sourcePoints: x.rows, targetPoints: y.rows)
        }
        if paired, x.rows != y.rows {
            throw TransportError.invalidParameter(
                "paired coupling statistics need as many source as target points, got \(x.rows) and \(y.rows)")
        }
        let n = x.rows, m = y.rows
        let rows = try groundCost.validated().rows(x, y)
        let planRows = solvedSource.map { groundCost.rows($0, y) }
        let epsilon = solution.epsilon
        let logWeights = -Foundation.log(Double(n)) - Foundation.log(Double(m))
        let blockRows = Swift.max(1, (1 << 15) / Swift.max(1, m))
        var block = [Scalar](repeating: 0, count: blockRows * m)
        var planBlock = [Scalar](repeating: 0, count: planRows == nil ? 0 : blockRows * m)
        var transportCost = 0.0, entropy = 0.0, mass = 0.0, trace = 0.0, logDiagonal = 0.0
        var start = 0
        while start < n {
            let end = Swift.min(n, start + blockRows)
            block.withUnsafeMutableBufferPointer { buffer in
                planBlock.withUnsafeMutableBufferPointer { planBuffer in
                    guard let base = buffer.baseAddress else { return }
                    rows.fillRows(start..<end, into: base)
                    let planBase = planRows == nil ? base : (planBuffer.baseAddress ?? base)
                    if let planRows { planRows.fillRows(start..<end, into: planBase) }
                    for r in 0..<(end - start) {
                        let i = start + r, f = Double(solution.f[i])
                        for j in 0..<m {
                            let c = Double(base[r * m + j])
                            let logP = logWeights + (f + Double(solution.g[j]) - Double(planBase[r * m + j])) / epsilon
                            let p = Foundation.exp(logP)
                            transportCost += p * c
                            mass += p
                            if p > 0 { entropy -= p * logP }
                            if paired, i == j {
                                trace += p
                                logDiagonal += logP
                            }
                        }
                    }
                }
            }
            start = end
        }
        let uniform = -Foundation.log(Double(n))
        return CouplingStatistics(
            transportCost: transportCost, entropy: entropy, mass: mass,
            trace: paired ? trace : nil,
            klFromIdentity: paired ? uniform - logDiagonal / Double(n) : nil)
    }
}
