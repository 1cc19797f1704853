import Foundation
import LinearAlgebra

/// The cost C_ij = −⟨u_i, v_j⟩ between the rows of two clouds of the same width, a block of
/// rows at a time with one gemm. With u = x and v = y·Aᵀ it is the bilinear cost
/// c_A(x, y) = −xᵀAy of inverse OT (Andrade, Peyré & Poon, ICLR 2024), which is not
/// translation invariant and so is not a `GroundCost`.
struct NegativeInnerProductCost<Scalar: TransportScalar>: CostRowSource, @unchecked Sendable {
    let left: Matrix<Scalar>
    let right: Matrix<Scalar>

    var rows: Int { left.rows }
    var cols: Int { right.rows }
    var transposedSource: any CostRowSource<Scalar> { NegativeInnerProductCost(left: right, right: left) }

    func fillRows(_ range: Range<Int>, into buffer: UnsafeMutablePointer<Scalar>) {
        let d = left.cols, m = right.rows
        guard !range.isEmpty, m > 0 else { return }
        guard d > 0 else {
            buffer.initialize(repeating: 0, count: range.count * m)
            return
        }
        left.withUnsafeBufferPointer { ls in
            right.withUnsafeBufferPointer { rs in
                guard let l = ls.baseAddress, let r = rs.baseAddress else { return }
                Scalar.gemm(transposeA: false, transposeB: true, m: range.count, n: m, k: d,
                            alpha: -1, a: l + range.lowerBound * d, lda: d,
                            b: r, ldb: d, beta: 0, c: buffer, ldc: m)
            }
        }
    }
}

/// Entropic OT under the bilinear cost c_A(x, y) = −xᵀAy between two clouds of n and m points
/// with uniform weights (the forward problem of inverse OT, seed 004's "Sink(c_θ, ε)").
///
/// The cost rows come from one gemm per block against y·Aᵀ, so a solve never holds the
/// n × m matrix beyond the dense limit of `SinkhornOptions`.
public enum BilinearSinkhorn {
    /// Sinkhorn for −xᵀAy at a fixed ε (`options.epsilon` is ignored), from `warmStart` when
    /// given (the potentials of a nearby A, as an inverse-OT descent passes from step to step).
    public static func solve(
        source x: Matrix<Double>, target y: Matrix<Double>, interaction a: Matrix<Double>, epsilon: Double,
        options: SinkhornOptions = SinkhornOptions(), warmStart: SinkhornPotentials<Double>? = nil
    ) throws -> SinkhornResult<Double> {
        let cost = try prepared(x, y, a, epsilon)
        if let warmStart {
            guard warmStart.f.count == x.rows, warmStart.g.count == y.rows,
                  warmStart.f.allSatisfy(\.isFinite), warmStart.g.allSatisfy(\.isFinite) else {
                throw TransportError.invalidWarmStart(sourcePoints: x.rows, targetPoints: y.rows)
            }
        }
        // Each worker's cost block is one small gemm (k = dx): OpenBLAS threads inside the
        // workers would only spin against each other.
        return try BLASThreads.withSingleThread {
            try Sinkhorn.iterate(cost, epsilon: epsilon, options, warmStart: warmStart)
        }
    }

    /// Moments of the plan P_ij = exp((f_i + g_j − C_ij)/ε)/(n·m) of `potentials` under
    /// −xᵀAy: its mass Σ P_ij and its cross moment Σ_ij P_ij x_i y_jᵀ (dx × dy), computed by
    /// row blocks on every core without forming P.
    public static func planMoments(
        source x: Matrix<Double>, target y: Matrix<Double>, interaction a: Matrix<Double>, epsilon: Double,
        potentials: SinkhornPotentials<Double>
    ) throws -> (mass: Double, crossMoment: Matrix<Double>) {
        let cost = try prepared(x, y, a, epsilon)
        let n = x.rows, m = y.rows, dx = x.cols, dy = y.cols
        guard potentials.f.count == n, potentials.g.count == m else {
            throw TransportError.invalidWarmStart(sourcePoints: n, targetPoints: m)
        }
        let logWeight = -Foundation.log(Double(n)) - Foundation.log(Double(m))
        let inverseEpsilon = 1 / epsilon
        let offsets = potentials.g.map { $0 * inverseEpsilon }
        let blockRows = Swift.max(8, (1 << 17) / Swift.max(1, m))
        let blockCount = (n + blockRows - 1) / blockRows
        let partials = PartialSums(count: blockCount, width: dx * dy)
        BLASThreads.withSingleThread {
        parallelForRanges(count: blockCount, minimumBlock: 1) { blocks in
            var values = [Double](repeating: 0, count: blockRows * m)
            var weightedY = [Double](repeating: 0, count: blockRows * dy)
            for block in blocks {
                let start = block * blockRows, end = Swift.min(n, start + blockRows), count = end - start
                var mass = 0.0
                values.withUnsafeMutableBufferPointer { buffer in
                    offsets.withUnsafeBufferPointer { offsetBuffer in
                        guard let base = buffer.baseAddress, let offsets = offsetBuffer.baseAddress else { return }
                        cost.fillRows(start..<end, into: base)
                        for r in 0..<count {
                            let shift = (potentials.f[start + r]) * inverseEpsilon + logWeight
                            mass += exponentiateRow(base + r * m, count: m, shift: shift, offsets: offsets, inverseEpsilon: inverseEpsilon)
                        }
                    }
                }
                // (P_block · Y) then x_blockᵀ · (P_block · Y).
                var moment = [Double](repeating: 0, count: dx * dy)
                values.withUnsafeBufferPointer { p in
                    y.withUnsafeBufferPointer { ys in
                        x.withUnsafeBufferPointer { xs in
                            weightedY.withUnsafeMutableBufferPointer { py in
                                moment.withUnsafeMutableBufferPointer { out in
                                    guard let pb = p.baseAddress, let yb = ys.baseAddress, let xb = xs.baseAddress,
                                          let pyb = py.baseAddress, let ob = out.baseAddress, dx > 0, dy > 0 else { return }
                                    Double.gemm(transposeA: false, transposeB: false, m: count, n: dy, k: m,
                                                alpha: 1, a: pb, lda: m, b: yb, ldb: dy, beta: 0, c: pyb, ldc: dy)
                                    Double.gemm(transposeA: true, transposeB: false, m: dx, n: dy, k: count,
                                                alpha: 1, a: xb + start * dx, lda: dx, b: pyb, ldb: dy, beta: 0, c: ob, ldc: dy)
                                }
                            }
                        }
                    }
                }
                partials.set(block, mass: mass, moment: moment)
            }
        }
        }
        let (mass, moment) = partials.total()
        return (mass, try Matrix(rows: dx, cols: dy, storage: moment))
    }

    /// The cost rows of −xᵀAy after checking shapes and values.
    static func prepared(
        _ x: Matrix<Double>, _ y: Matrix<Double>, _ a: Matrix<Double>, _ epsilon: Double
    ) throws -> NegativeInnerProductCost<Double> {
        guard x.rows > 0 else { throw TransportError.emptyCloud("source") }
        guard y.rows > 0 else { throw TransportError.emptyCloud("target") }
        guard a.rows == x.cols, a.cols == y.cols else {
            throw TransportError.invalidParameter(
                "the interaction matrix is \(a.rows)×\(a.cols), expected \(x.cols)×\(y.cols) (source × target coordinates)")
        }
        guard x.allFinite else { throw TransportError.nonFinite("source") }
        guard y.allFinite else { throw TransportError.nonFinite("target") }
        guard a.allFinite else { throw TransportError.invalidParameter("the interaction matrix contains NaN or infinity") }
        guard epsilon.isFinite, epsilon > 0 else { throw TransportError.invalidEpsilon(epsilon) }
        return NegativeInnerProductCost(left: x, right: y.multiplied(by: a, transposeOther: true))
    }
}

/// Per-block sums written by the workers of `planMoments` and added up in block order, so the
/// result does not depend on how the blocks were shared between cores.
private final class PartialSums: @unchecked Sendable {
    private var masses: [Double]
    private var moments: [[Double]]
    private let lock = NSLock()

    init(count: Int, width: Int) {
        masses = [Double](repeating: 0, count: count)
        moments = [[Double]](repeating: [Double](repeating: 0, count: width), count: count)
    }

    func set(_ block: Int, mass: Double, moment: [Double]) {
        lock.lock()
        masses[block] = mass
        moments[block] = moment
        lock.unlock()
    }

    func total() -> (Double, [Double]) {
        var moment = [Double](repeating: 0, count: moments.first?.count ?? 0)
        for partial in moments { for k in moment.indices { moment[k] += partial[k] } }
        return (masses.reduce(0, +), moment)
    }
}
