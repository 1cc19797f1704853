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
    /// h(z) = ½‖z‖² + λ‖z‖₁ (Cuturi, Klein & Ablin 2023, §4; OTT-JAX's
    /// `RegTICost(regularizers.L1(), lam=λ)`): ∇h* is soft thresholding at λ, so the entropic
    /// map's displacements are sparse.
    case elasticL1(lambda: Double)
    /// h(z) = ½‖z‖² + λ·STVS_γ(z), STVS_γ(z) = γ² Σ_d (σ_d − ½e^{−2σ_d} + ½) with
    /// σ_d = asinh(|z_d| / 2γ) (Schreck et al. 2015; OTT-JAX's `RegTICost(STVS(γ), lam=λ)`).
    /// STVS is concave on each half-line, so h is convex only for λ ≤ 2 (φ''(0⁺) = 1 − λ/2);
    /// ∇h* is then the exact shrinkage `ElasticSTVSCost.conjugateDerivative`, which at λ ≠ 1
    /// differs from what OTT 0.6 applies (docs/conventions.md).
    case elasticSTVS(lambda: Double, gamma: Double)

    /// Checks the parameters: p finite and above 1; λ ≥ 0 (≤ 2 for STVS) and γ > 0, finite, so
    /// that h is strictly convex and ∇h* defined.
    public func validated() throws -> GroundCost {
        switch self {
        case .squaredEuclidean:
            break
        case .pNorm(let p):
            guard p.isFinite, p > 1 else {
                throw TransportError.invalidParameter("the p-norm cost needs a finite p > 1, got \(p)")
            }
        case .elasticL1(let lambda):
            guard lambda.isFinite, lambda >= 0 else {
                throw TransportError.invalidParameter("the elastic_l1 cost needs a finite λ ≥ 0, got \(lambda)")
            }
        case .elasticSTVS(let lambda, let gamma):
            guard lambda.isFinite, lambda >= 0, lambda <= GroundCost.maximumSTVSLambda else {
                throw TransportError.invalidParameter(
                    "the elastic_stvs cost needs 0 ≤ λ ≤ 2 (h = ½‖z‖² + λ·STVS_γ is not convex beyond; the shrinkage threshold is λγ, so raise γ instead), got λ = \(lambda)")
            }
            guard gamma.isFinite, gamma > 0 else {
                throw TransportError.invalidParameter("the elastic_stvs cost needs a finite γ > 0, got \(gamma)")
            }
        }
        return self
    }

    /// The command-line and pipeline name: `sqeuclidean`, `pnorm`, `elastic_l1` or `elastic_stvs`.
    public var name: String {
        switch self {
        case .squaredEuclidean: return "sqeuclidean"
        case .pNorm: return "pnorm"
        case .elasticL1: return "elastic_l1"
        case .elasticSTVS: return "elastic_stvs"
        }
    }

    /// The largest λ of `elasticSTVS`: beyond it h = ½‖z‖² + λ·STVS_γ is not convex.
    public static let maximumSTVSLambda = 2.0

    /// Every name `init(name:…)` accepts.
    public static let names = ["sqeuclidean", "pnorm", "elastic_l1", "elastic_stvs"]

    /// The parameters a cost takes when none is given: p = 1.5 (the ProgOT paper's coupling
    /// experiment), λ = 1 and γ = 1 (OTT-JAX's `RegTICost(L1(), lam=1)`, `STVS(gamma=1)`).
    public static let defaultParameters = (p: 1.5, lambda: 1.0, gamma: 1.0)

    /// The cost called `name`, with the parameters it uses (the others are ignored), validated.
    public init(name: String, p: Double = GroundCost.defaultParameters.p, lambda: Double = GroundCost.defaultParameters.lambda,
                gamma: Double = GroundCost.defaultParameters.gamma) throws {
        switch name {
        case "sqeuclidean": self = .squaredEuclidean
        case "pnorm": self = .pNorm(p)
        case "elastic_l1": self = .elasticL1(lambda: lambda)
        case "elastic_stvs": self = .elasticSTVS(lambda: lambda, gamma: gamma)
        default:
            throw TransportError.invalidParameter("unknown cost '\(name)'; expected one of \(GroundCost.names.joined(separator: ", "))")
        }
        self = try validated()
    }

    public var description: String {
        switch self {
        case .squaredEuclidean: return "sqeuclidean (‖x − y‖²)"
        case .pNorm(let p): return "pnorm (‖x − y‖_p^p / p, p = \(p))"
        case .elasticL1(let lambda): return "elastic_l1 (½‖x − y‖² + λ‖x − y‖₁, λ = \(lambda))"
        case .elasticSTVS(let lambda, let gamma):
            return "elastic_stvs (½‖x − y‖² + λ·STVS_γ(x − y), λ = \(lambda), γ = \(gamma))"
        }
    }

    /// The cost of one pair of points.
    public func callAsFunction(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count, "points of different dimension")
        let cost = coordinates
        return zip(x, y).reduce(0) { $0 + cost.value($1.0 - $1.1) }
    }

    /// ∇h(z), coordinate by coordinate.
    public func gradient(_ z: [Double]) throws -> [Double] {
        let cost = try validated().coordinates
        return z.map(cost.derivative)
    }

    /// ∇h*(w) = (∇h)⁻¹(w): for the elastic costs the prox of the penalty (soft thresholding for
    /// L1, the STVS shrinkage), the part of the entropic map that makes displacements sparse.
    public func conjugateGradient(_ w: [Double]) throws -> [Double] {
        let cost = try validated().coordinates
        return w.map(cost.conjugateDerivative)
    }

    /// The per-coordinate function of h, boxed: for the per-point helpers above; the kernels
    /// switch on the case instead, so that they are specialised.
    private var coordinates: any CoordinateCost {
        switch self {
        case .squaredEuclidean: return SquaredDifference()
        case .pNorm(let p): return PNormCost(p: p)
        case .elasticL1(let lambda): return ElasticL1Cost(lambda: lambda)
        case .elasticSTVS(let lambda, let gamma): return ElasticSTVSCost(lambda: lambda, gamma: gamma)
        }
    }
}

/// The per-coordinate function φ of a separable translation-invariant cost h(z) = Σ_d φ(z_d),
/// with what the entropic map needs: φ' and the derivative of the convex conjugate, (φ*)' = (φ')⁻¹.
///
/// Implementations are small structs. The kernels reach them through the run requirements
/// below, whose default implementations each conformance's witness gets specialised for that
/// struct: the generic row code (`TranslationInvariantCostRows`, the entropic map) then pays one
/// dynamic call per run of coordinates instead of one per element, which cost 10× at d = 3000.
protocol CoordinateCost: Sendable {
    func value(_ z: Double) -> Double
    /// φ on four lanes.
    func values(_ z: SIMD4<Double>) -> SIMD4<Double>
    func derivative(_ z: Double) -> Double
    func conjugateDerivative(_ w: Double) -> Double

    /// row_j += φ(x − run_j) for j < count, four lanes at a time.
    func accumulateValues(_ x: Double, _ run: UnsafePointer<Double>, into row: UnsafeMutablePointer<Double>, count: Int)
    /// sum_k += weight · φ'(x_k − y_k) for k < count.
    func accumulateDerivatives(
        _ weight: Double, _ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, into sum: UnsafeMutablePointer<Double>, count: Int)
    /// moved_k = x_k − (φ*)'(sum_k) for k < count.
    func conjugateStep(_ x: UnsafePointer<Double>, _ sum: UnsafePointer<Double>, into moved: UnsafeMutablePointer<Double>, count: Int)
}

extension CoordinateCost {
    /// Lane by lane through `value`.
    @inline(__always) func values(_ z: SIMD4<Double>) -> SIMD4<Double> {
        SIMD4(value(z[0]), value(z[1]), value(z[2]), value(z[3]))
    }

    func accumulateValues(_ x: Double, _ run: UnsafePointer<Double>, into row: UnsafeMutablePointer<Double>, count: Int) {
        let lanes = count & ~3
        var j = 0
        while j < lanes {
            let z = SIMD4(repeating: x) - UnsafeRawPointer(run + j).loadUnaligned(as: SIMD4<Double>.self)
            let sum = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD4<Double>.self) + values(z)
            UnsafeMutableRawPointer(row + j).storeBytes(of: sum, as: SIMD4<Double>.self)
            j += 4
        }
        while j < count {
            row[j] += value(x - run[j])
            j += 1
        }
    }

    func accumulateDerivatives(
        _ weight: Double, _ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, into sum: UnsafeMutablePointer<Double>, count: Int
    ) {
        for k in 0..<count { sum[k] += weight * derivative(x[k] - y[k]) }
    }

    func conjugateStep(_ x: UnsafePointer<Double>, _ sum: UnsafePointer<Double>, into moved: UnsafeMutablePointer<Double>, count: Int) {
        for k in 0..<count { moved[k] = x[k] - conjugateDerivative(sum[k]) }
    }
}

/// |z| lane by lane (the sign bit cleared).
@inline(__always) func magnitudes(_ z: SIMD4<Double>) -> SIMD4<Double> {
    unsafeBitCast(unsafeBitCast(z, to: SIMD4<UInt64>.self) & 0x7FFF_FFFF_FFFF_FFFF, to: SIMD4<Double>.self)
}

/// φ(z) = z², the coordinates of the squared-Euclidean cost.
struct SquaredDifference: CoordinateCost {
    @inline(__always) func value(_ z: Double) -> Double { z * z }
    @inline(__always) func values(_ z: SIMD4<Double>) -> SIMD4<Double> { z * z }
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

/// φ(z) = ½z² + λ|z|; φ'(z) = z + λ·sign(z) (0 at 0); (φ*)'(w) = sign(w)·max(|w| − λ, 0), soft
/// thresholding (OTT-JAX's `L1.prox(w, λ)`).
struct ElasticL1Cost: CoordinateCost {
    let lambda: Double

    @inline(__always) func value(_ z: Double) -> Double { 0.5 * z * z + lambda * abs(z) }
    @inline(__always) func values(_ z: SIMD4<Double>) -> SIMD4<Double> { 0.5 * z * z + lambda * magnitudes(z) }

    @inline(__always) func derivative(_ z: Double) -> Double {
        z > 0 ? z + lambda : (z < 0 ? z - lambda : 0)
    }

    @inline(__always) func conjugateDerivative(_ w: Double) -> Double {
        w > lambda ? w - lambda : (w < -lambda ? w + lambda : 0)
    }
}

/// φ(z) = ½z² + λγ²(σ − ½e^{−2σ} + ½), σ = asinh(|z| / 2γ) (λ ≤ 2, see `GroundCost.elasticSTVS`).
///
/// With s = |z| / 2γ and t = e^{−σ} = √(1 + s²) − s, the penalty's derivative is λγt·sign(z).
/// Inverting w = φ'(z) for |w| > λγ: z = γ(1/t − t) turns w = z + λγt into (λ − 1)γt² − |w|t + γ = 0,
/// whose root in (0, 1) is t = 2γ / (|w| + √(w² − 4(λ − 1)γ²)); |w| ≤ λγ maps to 0. At λ = 1 this
/// is OTT-JAX's `STVS.prox`, w(1 − γ²/w²)₊.
struct ElasticSTVSCost: CoordinateCost {
    let lambda: Double
    let gamma: Double

    @inline(__always) func value(_ z: Double) -> Double {
        let s = abs(z) / (2 * gamma)
        let root = (1 + s * s).squareRoot()
        let t = 1 / (root + s)  // e^{−σ}, without the cancellation of root − s
        return 0.5 * z * z + lambda * gamma * gamma * (Foundation.log(root + s) - 0.5 * t * t + 0.5)
    }

    @inline(__always) func values(_ z: SIMD4<Double>) -> SIMD4<Double> {
        let s = magnitudes(z) / (2 * gamma)
        let root = (1 + s * s).squareRoot()
        let t = 1 / (root + s)
        return 0.5 * z * z + lambda * gamma * gamma * (vectorLogarithm(root + s) - 0.5 * t * t + 0.5)
    }

    @inline(__always) func derivative(_ z: Double) -> Double {
        guard z != 0 else { return 0 }
        let s = abs(z) / (2 * gamma)
        let shrink = lambda * gamma / ((1 + s * s).squareRoot() + s)
        return z > 0 ? z + shrink : z - shrink
    }

    @inline(__always) func conjugateDerivative(_ w: Double) -> Double {
        let magnitude = abs(w)
        guard magnitude > lambda * gamma else { return 0 }
        let t = 2 * gamma / (magnitude + (magnitude * magnitude - 4 * (lambda - 1) * gamma * gamma).squareRoot())
        let z = gamma * (1 / t - t)
        return w > 0 ? z : -z
    }
}

/// Rows of the cost matrix h(x_i − y_j) for a separable cost, built coordinate by coordinate:
/// Σ_d φ(x_id − y_jd) accumulates over contiguous runs of j (y is kept transposed), four lanes at
/// a time (`CoordinateCost.accumulateValues`). Tiles of `tileRows` rows × `tileColumns` columns keep the accumulators in
/// L1 and read each run of y once per tile rather than once per row: at d = 3000 the transposed y
/// of 2,000 points is 48 MB, and streaming it per row made the fill memory-bound.
struct TranslationInvariantCostRows<Scalar: TransportScalar, Cost: CoordinateCost>: CostRowSource, @unchecked Sendable {
    let x: Matrix<Scalar>
    let y: Matrix<Scalar>
    let cost: Cost
    /// yᵀ in Double (d × m), so each coordinate's run over j is contiguous.
    private let yByCoordinate: [Double]
    private static var tileRows: Int { 8 }
    private static var tileColumns: Int { 256 }

    init(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>, cost: Cost) {
        precondition(x.cols == y.cols, "point clouds of different dimension")
        self.x = x
        self.y = y
        self.cost = cost
        var transposed = [Double](repeating: 0, count: y.rows * y.cols)
        var row = [Double](repeating: 0, count: y.cols)
        y.withUnsafeBufferPointer { points in
            row.withUnsafeMutableBufferPointer { row in
                guard let points = points.baseAddress, let row = row.baseAddress else { return }
                for j in 0..<y.rows {
                    Scalar.widen(points + j * y.cols, into: row, count: y.cols)
                    for k in 0..<y.cols { transposed[k * y.rows + j] = row[k] }
                }
            }
        }
        yByCoordinate = transposed
    }

    var rows: Int { x.rows }
    var cols: Int { y.rows }

    /// h is even, so the transposed cost swaps the clouds.
    var transposedSource: any CostRowSource<Scalar> { TranslationInvariantCostRows(y, x, cost: cost) }

    func matrix() -> Matrix<Scalar> { matrixOnAllCores() }

    func fillRows(_ range: Range<Int>, into buffer: UnsafeMutablePointer<Scalar>) {
        let d = x.cols, m = y.rows, tileRows = Self.tileRows, tileColumns = Self.tileColumns
        guard m > 0, !range.isEmpty else { return }
        guard d > 0 else {
            buffer.update(repeating: 0, count: range.count * m)
            return
        }
        // The tile's x values coordinate-major (xTile[k·tileRows + r]) and its sums row-major.
        let xRow = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, d))
        let xTile = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, d * tileRows))
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: tileRows * tileColumns)
        defer { xRow.deallocate(); xTile.deallocate(); sums.deallocate() }
        x.withUnsafeBufferPointer { points in
            yByCoordinate.withUnsafeBufferPointer { columns in
                guard let points = points.baseAddress, let columns = columns.baseAddress else { return }
                var first = range.lowerBound
                while first < range.upperBound {
                    let count = Swift.min(tileRows, range.upperBound - first)
                    for r in 0..<count {
                        Scalar.widen(points + (first + r) * d, into: xRow, count: d)
                        for k in 0..<d { xTile[k * tileRows + r] = xRow[k] }
                    }
                    var j0 = 0
                    while j0 < m {
                        let width = Swift.min(tileColumns, m - j0)
                        sums.update(repeating: 0, count: count * tileColumns)
                        for k in 0..<d {
                            let run = columns + k * m + j0
                            for r in 0..<count {
                                cost.accumulateValues(xTile[k * tileRows + r], run, into: sums + r * tileColumns, count: width)
                            }
                        }
                        for r in 0..<count {
                            Scalar.narrow(sums + r * tileColumns, into: buffer + (first - range.lowerBound + r) * m + j0, count: width)
                        }
                        j0 += width
                    }
                    first += count
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
        case .elasticL1(let lambda): return TranslationInvariantCostRows(x, y, cost: ElasticL1Cost(lambda: lambda))
        case .elasticSTVS(let lambda, let gamma):
            return TranslationInvariantCostRows(x, y, cost: ElasticSTVSCost(lambda: lambda, gamma: gamma))
        }
    }

    /// OTT-JAX's default ε for the (x, y) problem under this cost: 0.05 × the std of the cost
    /// matrix's entries.
    public func defaultEpsilon(_ x: Matrix<Double>, _ y: Matrix<Double>) throws -> Double {
        try epsilon(.auto, x, y)
    }

    /// The value of `choice` for the (x, y) problem under this cost (a fixed value as it is; the
    /// rules computed from the cost matrix's entries, in blocks).
    public func epsilon(_ choice: EpsilonChoice, _ x: Matrix<Double>, _ y: Matrix<Double>) throws -> Double {
        try choice.resolve(for: try validated().rows(x, y))
    }

    /// The whole n × m cost matrix between the rows of `x` and of `y`.
    public func matrix(_ x: Matrix<Double>, _ y: Matrix<Double>) -> Matrix<Double> {
        rows(x, y).matrix()
    }
}
