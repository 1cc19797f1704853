import Foundation
import LinearAlgebra

/// The ground cost c(x, y) of a transport problem.
///
/// Every cost here is translation invariant, c(x, y) = h(x − y), with h even, strictly convex
/// and a sum over coordinates, h(z) = Σ_d φ(z_d): then the entropic map has the closed form of
/// Cuturi, Klein & Ablin (2023, eq. 7), T(x) = x − ∇h*(Σ_j p_j(x) ∇h(x − y_j)), and the cost
/// matrix can be built a block of rows at a time. `squaredEuclidean` (h = ‖z‖², no ½, as
/// OTT-JAX's `SqEuclidean`) keeps its gemm fast path; the others are built coordinate by
/// coordinate. Costs are selected by value so that maps stay `Codable` and pipelines can name them.
public enum GroundCost: Sendable, Hashable, Codable, CustomStringConvertible {
    /// h(z) = ‖z‖².
    case squaredEuclidean
    /// h(z) = ‖z‖_p^p / p with p > 1 (OTT-JAX's `PNormP`; the ProgOT paper's coupling
    /// experiment uses p = 1.5).
    case pNorm(Double)

    /// Checks the parameters: p must be finite and above 1 (h strictly convex and ∇h* defined).
    public func validated() throws -> GroundCost {
        if case .pNorm(let p) = self {
            guard p.isFinite, p > 1 else {
                throw TransportError.invalidParameter("the p-norm cost needs a finite p > 1, got \(p)")
            }
        }
        return self
    }

    /// The command-line and pipeline name: `sqeuclidean` or `pnorm`.
    public var name: String {
        switch self {
        case .squaredEuclidean: return "sqeuclidean"
        case .pNorm: return "pnorm"
        }
    }

    public var description: String {
        switch self {
        case .squaredEuclidean: return "sqeuclidean (‖x − y‖²)"
        case .pNorm(let p): return "pnorm (‖x − y‖_p^p / p, p = \(p))"
        }
    }

    /// The cost of one pair of points.
    public func callAsFunction(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count, "points of different dimension")
        switch self {
        case .squaredEuclidean:
            return zip(x, y).reduce(0) { $0 + SquaredDifference().value($1.0 - $1.1) }
        case .pNorm(let p):
            let cost = PNormCost(p: p)
            return zip(x, y).reduce(0) { $0 + cost.value($1.0 - $1.1) }
        }
    }
}

/// The per-coordinate function φ of a separable translation-invariant cost h(z) = Σ_d φ(z_d),
/// with what the entropic map needs: φ' and the derivative of the convex conjugate, (φ*)' = (φ')⁻¹.
///
/// Implementations are small structs, so the cost kernels are specialised for each of them.
protocol CoordinateCost: Sendable {
    func value(_ z: Double) -> Double
    func derivative(_ z: Double) -> Double
    func conjugateDerivative(_ w: Double) -> Double
}

/// φ(z) = z², the coordinates of the squared-Euclidean cost.
struct SquaredDifference: CoordinateCost {
    @inline(__always) func value(_ z: Double) -> Double { z * z }
    @inline(__always) func derivative(_ z: Double) -> Double { 2 * z }
    @inline(__always) func conjugateDerivative(_ w: Double) -> Double { w / 2 }
}

/// φ(z) = |z|^p / p; φ'(z) = sign(z)|z|^(p−1); (φ*)'(w) = sign(w)|w|^(q−1) with 1/p + 1/q = 1.
struct PNormCost: CoordinateCost {
    let p: Double

    @inline(__always) func value(_ z: Double) -> Double {
        // p = 1.5, the case the experiments run, without a pow call: |z|·√|z|.
        let magnitude = abs(z)
        return p == 1.5 ? magnitude * magnitude.squareRoot() / 1.5 : Foundation.pow(magnitude, p) / p
    }

    @inline(__always) func derivative(_ z: Double) -> Double {
        let magnitude = abs(z)
        let power = p == 1.5 ? magnitude.squareRoot() : Foundation.pow(magnitude, p - 1)
        return z < 0 ? -power : power
    }

    @inline(__always) func conjugateDerivative(_ w: Double) -> Double {
        let magnitude = abs(w)
        let power = p == 1.5 ? magnitude * magnitude : Foundation.pow(magnitude, 1 / (p - 1))
        return w < 0 ? -power : power
    }
}

/// Rows of the cost matrix h(x_i − y_j) for a separable cost, built coordinate by coordinate:
/// for each row, Σ_d φ(x_id − y_jd) accumulates over contiguous runs of j (y is kept transposed),
/// a loop the compiler vectorises.
struct TranslationInvariantCostRows<Scalar: TransportScalar, Cost: CoordinateCost>: CostRowSource, @unchecked Sendable {
    let x: Matrix<Scalar>
    let y: Matrix<Scalar>
    let cost: Cost
    /// yᵀ in Double (d × m), so each coordinate's run over j is contiguous.
    private let yByCoordinate: [Double]

    init(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>, cost: Cost) {
        precondition(x.cols == y.cols, "point clouds of different dimension")
        self.x = x
        self.y = y
        self.cost = cost
        var transposed = [Double](repeating: 0, count: y.rows * y.cols)
        for j in 0..<y.rows {
            for k in 0..<y.cols { transposed[k * y.rows + j] = Double(y[j, k]) }
        }
        yByCoordinate = transposed
    }

    var rows: Int { x.rows }
    var cols: Int { y.rows }

    /// h is even, so the transposed cost swaps the clouds.
    var transposedSource: any CostRowSource<Scalar> { TranslationInvariantCostRows(y, x, cost: cost) }

    func fillRows(_ range: Range<Int>, into buffer: UnsafeMutablePointer<Scalar>) {
        let d = x.cols, m = y.rows
        guard m > 0 else { return }
        var accumulator = [Double](repeating: 0, count: m)
        yByCoordinate.withUnsafeBufferPointer { columns in
            accumulator.withUnsafeMutableBufferPointer { sums in
                for (offset, i) in range.enumerated() {
                    for j in 0..<m { sums[j] = 0 }
                    for k in 0..<d {
                        let xk = Double(x[i, k])
                        let base = k * m
                        for j in 0..<m { sums[j] += cost.value(xk - columns[base + j]) }
                    }
                    let row = buffer + offset * m
                    for j in 0..<m { row[j] = Scalar(sums[j]) }
                }
            }
        }
    }
}

extension GroundCost {
    /// Row blocks of the cost matrix between the rows of `x` and of `y`.
    func rows<Scalar: TransportScalar>(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>) -> any CostRowSource<Scalar> {
        switch self {
        case .squaredEuclidean: return SquaredEuclideanCost(x, y)
        case .pNorm(let p): return TranslationInvariantCostRows(x, y, cost: PNormCost(p: p))
        }
    }

    /// OTT-JAX's default ε for the (x, y) problem under this cost: 0.05 × the std of the cost
    /// matrix's entries.
    public func defaultEpsilon(_ x: Matrix<Double>, _ y: Matrix<Double>) throws -> Double {
        try EpsilonChoice.auto.resolve(for: try validated().rows(x, y))
    }

    /// The whole n × m cost matrix between the rows of `x` and of `y`.
    public func matrix(_ x: Matrix<Double>, _ y: Matrix<Double>) -> Matrix<Double> {
        rows(x, y).matrix()
    }
}
