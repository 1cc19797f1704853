import Foundation
import LinearAlgebra

/// What one pass over an entropic plan with the source potential eliminated gives: the semi-dual
/// of entropic OT (Genevay, Cuturi, Peyré & Bach, NeurIPS 2016, eq. (8)) at a target potential g,
///   f_i = −ε log Σ_j b_j exp((g_j − C_ij)/ε)   (exact: the row update of Sinkhorn),
///   P_ij = a_i b_j exp((f_i + g_j − C_ij)/ε)  (each row sums to a_i),
/// with P's column masses (the semi-dual's gradient in g is columnMass − b) and the moments of P
/// a caller asked for (inverse OT's E_P[c_k]), so one pass serves a joint descent over (θ, g).
public struct SemiDualPass: Sendable {
    /// The source potential, one per row.
    public let f: [Double]
    /// Σ_i P_ij, one per column.
    public let columnMass: [Double]
    /// The caller's moments of P, summed over the row blocks in a fixed order.
    public let moments: [Double]

    /// ‖Σ_i P_ij − b_j‖₁: the marginal error Sinkhorn's threshold reads (the rows are exact).
    public var marginalError: Double {
        let b = 1 / Double(columnMass.count)
        return columnMass.reduce(0) { $0 + Swift.abs($1 - b) }
    }
}

enum SemiDualPlanPass {
    /// Rows of P per block: about 2¹⁶ values (512 KiB), so that a block stays in a core's L2
    /// cache between the cost gemm, the exponentials and the moment gemm. At n = 10⁴ (8 rows a
    /// block) a pass took 0.245 s on 2 cores; 2¹⁸ values 0.30 s, the online Sinkhorn's 2²⁰
    /// 0.36 s, 2¹⁵ with 4-row blocks 0.31 s (each gemm packs y again).
    static func blockRows(columns m: Int) -> Int { Swift.max(8, (1 << 16) / Swift.max(1, m)) }

    /// The pass over `cost` at `g` with uniform weights. `accumulate(first, count, exponentials,
    /// weights, moments)` adds the moments of the plan rows `first ..< first + count` into
    /// `moments` (`momentCount` values); those rows are P_rj = weights_r · exponentials_rj
    /// (row-major, `count × m`), the row weights left for the caller to fold into its products
    /// rather than spent on another sweep over the block.
    static func run(
        _ cost: any CostRowSource<Double>, g: [Double], epsilon: Double, momentCount: Int,
        accumulate: @escaping @Sendable (_ first: Int, _ count: Int, _ exponentials: UnsafePointer<Double>,
                                         _ weights: UnsafePointer<Double>, _ moments: UnsafeMutablePointer<Double>) -> Void
    ) -> SemiDualPass {
        let n = cost.rows, m = cost.cols
        let inverseEpsilon = 1 / epsilon
        let logB = -Foundation.log(Double(m)), weightA = 1 / Double(n)
        let offsets = g.map { $0 * inverseEpsilon }
        // 16 chunks (of at least 8 rows) whatever the core count, so that two cores share even a
        // small problem and the sums do not depend on how many ran.
        let chunkCount = Swift.max(1, Swift.min(16, n / 8))
        let chunkRows = (n + chunkCount - 1) / chunkCount
        let rowsPerBlock = Swift.min(blockRows(columns: m), chunkRows)
        var f = [Double](repeating: 0, count: n)
        var columnSums = [Double](repeating: 0, count: chunkCount * m)
        var momentSums = [Double](repeating: 0, count: chunkCount * momentCount)
        f.withUnsafeMutableBufferPointer { fBuffer in
            columnSums.withUnsafeMutableBufferPointer { columnBuffer in
                momentSums.withUnsafeMutableBufferPointer { momentBuffer in
                    offsets.withUnsafeBufferPointer { offsetBuffer in
                        let shared = UncheckedSendable((fBuffer.baseAddress, columnBuffer.baseAddress, momentBuffer.baseAddress,
                                                        offsetBuffer.baseAddress))
                        // Each worker's products are small gemms (k = d or n = d): BLAS threads
                        // inside the workers would only spin against each other.
                        BLASThreads.withSingleThread {
                            parallelForRanges(count: chunkCount, minimumBlock: 1) { chunks in
                                guard let fOut = shared.value.0, let columns = shared.value.1,
                                      let offsets = shared.value.3 else { return }
                                let momentsOut = shared.value.2
                                var values = [Double](repeating: 0, count: rowsPerBlock * m)
                                var weights = [Double](repeating: 0, count: rowsPerBlock)
                                values.withUnsafeMutableBufferPointer { valueBuffer in
                                    weights.withUnsafeMutableBufferPointer { weightBuffer in
                                        guard let block = valueBuffer.baseAddress, let weight = weightBuffer.baseAddress else { return }
                                        for chunk in chunks {
                                            let chunkEnd = Swift.min(n, (chunk + 1) * chunkRows)
                                            var start = chunk * chunkRows
                                            while start < chunkEnd {
                                                let end = Swift.min(chunkEnd, start + rowsPerBlock), count = end - start
                                                cost.fillRows(start..<end, into: block)
                                                for r in 0..<count {
                                                    let row = block + r * m
                                                    let maximum = Double.exponents(cost: row, offsets: offsets, count: m,
                                                                                   inverseEpsilon: inverseEpsilon, into: row)
                                                    let sum = Double.sumOfExponentials(row, count: m, shift: maximum, storing: true)
                                                    fOut[start + r] = -epsilon * (maximum + Foundation.log(sum) + logB)
                                                    weight[r] = weightA / sum
                                                    // The column masses while the row is still in cache (a gemm
                                                    // over the block would copy it once more to pack it).
                                                    addScaled(row, weight[r], into: columns + chunk * m, count: m)
                                                }
                                                if momentCount > 0, let momentsOut {
                                                    accumulate(start, count, block, weight, momentsOut + chunk * momentCount)
                                                }
                                                start = end
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var columnMass = [Double](repeating: 0, count: m)
        var moments = [Double](repeating: 0, count: momentCount)
        for chunk in 0..<chunkCount {
            for j in 0..<m { columnMass[j] += columnSums[chunk * m + j] }
            for k in 0..<momentCount { moments[k] += momentSums[chunk * momentCount + k] }
        }
        return SemiDualPass(f: f, columnMass: columnMass, moments: moments)
    }
}

/// target_j += scale · values_j.
@inline(__always)
private func addScaled(_ values: UnsafePointer<Double>, _ scale: Double, into target: UnsafeMutablePointer<Double>, count: Int) {
    for j in 0..<count { target[j] += scale * values[j] }
}

extension BilinearSinkhorn {
    /// The semi-dual pass under c_A(x, y) = −xᵀAy at the target potential `g`, with the plan's
    /// cross moment Σ_ij P_ij x_i y_jᵀ (dx × dy, row-major) as its moments: what the joint
    /// inverse-OT solver reads per step (value, and gradients in A and g).
    public static func semiDualPass(
        source x: Matrix<Double>, target y: Matrix<Double>, interaction a: Matrix<Double>, epsilon: Double, g: [Double]
    ) throws -> SemiDualPass {
        let cost = try prepared(x, y, a, epsilon)
        guard g.count == y.rows, g.allSatisfy(\.isFinite) else {
            throw TransportError.invalidWarmStart(sourcePoints: x.rows, targetPoints: y.rows)
        }
        let m = y.rows, dx = x.cols, dy = y.cols
        let rowsPerBlock = SemiDualPlanPass.blockRows(columns: m)
        let clouds = UncheckedSendable((x, y))
        return SemiDualPlanPass.run(cost, g: g, epsilon: epsilon, momentCount: dx * dy) { first, count, exponentials, weights, moments in
            let (x, y) = clouds.value
            // (E_block · Y) with its rows weighted, then x_blockᵀ · (P_block · Y) added into the chunk's moment.
            var weightedY = [Double](repeating: 0, count: rowsPerBlock * dy)
            weightedY.withUnsafeMutableBufferPointer { py in
                y.withUnsafeBufferPointer { ys in
                    x.withUnsafeBufferPointer { xs in
                        guard let pyb = py.baseAddress, let yb = ys.baseAddress, let xb = xs.baseAddress else { return }
                        Double.gemm(transposeA: false, transposeB: false, m: count, n: dy, k: m,
                                    alpha: 1, a: exponentials, lda: m, b: yb, ldb: dy, beta: 0, c: pyb, ldc: dy)
                        for r in 0..<count {
                            for c in 0..<dy { pyb[r * dy + c] *= weights[r] }
                        }
                        Double.gemm(transposeA: true, transposeB: false, m: dx, n: dy, k: count,
                                    alpha: 1, a: xb + first * dx, lda: dx, b: pyb, ldb: dy, beta: 1, c: moments, ldc: dy)
                    }
                }
            }
        }
    }
}

extension CostMatrixSinkhorn {
    /// The semi-dual pass on a given n × m cost at the target potential `g`, with ⟨P, M_k⟩ for
    /// each matrix of `momentsOf` (n × m each) as its moments.
    public static func semiDualPass(
        cost: Matrix<Double>, epsilon: Double, g: [Double], momentsOf matrices: [Matrix<Double>]
    ) throws -> SemiDualPass {
        try check(cost, epsilon)
        guard g.count == cost.cols, g.allSatisfy(\.isFinite) else {
            throw TransportError.invalidWarmStart(sourcePoints: cost.rows, targetPoints: cost.cols)
        }
        for matrix in matrices where matrix.rows != cost.rows || matrix.cols != cost.cols {
            throw TransportError.invalidParameter(
                "a moment matrix is \(matrix.rows)×\(matrix.cols), expected \(cost.rows)×\(cost.cols) as the cost")
        }
        let m = cost.cols
        let shared = UncheckedSendable(matrices)
        return SemiDualPlanPass.run(PrecomputedCost(values: cost), g: g, epsilon: epsilon,
                                    momentCount: matrices.count) { first, count, exponentials, weights, moments in
            for (k, matrix) in shared.value.enumerated() {
                matrix.withUnsafeBufferPointer { values in
                    guard let base = values.baseAddress else { return }
                    var total = 0.0
                    for r in 0..<count {
                        let row = base + (first + r) * m, plan = exponentials + r * m
                        var rowTotal = 0.0
                        for j in 0..<m { rowTotal += plan[j] * row[j] }
                        total += weights[r] * rowTotal
                    }
                    moments[k] += total
                }
            }
        }
    }
}
