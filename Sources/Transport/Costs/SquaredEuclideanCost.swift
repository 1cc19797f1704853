import LinearAlgebra

/// The cost c(x, y) = ‖x − y‖² (no ½, as OTT-JAX's `PointCloud`) between the rows of two
/// point clouds, produced a block of rows at a time as ‖x‖² + ‖y‖² − 2·x·yᵀ with one gemm.
struct SquaredEuclideanCost<Scalar: TransportScalar>: CostRowSource, @unchecked Sendable {
    let x: Matrix<Scalar>
    let y: Matrix<Scalar>
    let xNorms: [Scalar]
    let yNorms: [Scalar]

    init(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>) {
        precondition(x.cols == y.cols, "point clouds of different dimension")
        self.x = x
        self.y = y
        self.xNorms = SquaredEuclideanCost.rowSquaredNorms(x)
        self.yNorms = SquaredEuclideanCost.rowSquaredNorms(y)
    }

    var rows: Int { x.rows }
    var cols: Int { y.rows }

    /// The same cost with the roles of the clouds swapped (rows of Cᵀ).
    var transposed: SquaredEuclideanCost { SquaredEuclideanCost(swapping: self) }

    var transposedSource: any CostRowSource<Scalar> { transposed }

    private init(swapping other: SquaredEuclideanCost) {
        x = other.y
        y = other.x
        xNorms = other.yNorms
        yNorms = other.xNorms
    }

    static func rowSquaredNorms(_ m: Matrix<Scalar>) -> [Scalar] {
        (0..<m.rows).map { i in m.row(i).reduce(0) { $0 + $1 * $1 } }
    }

    /// Writes rows `range` of the cost matrix, row-major `range.count × cols`, into `buffer`.
    func fillRows(_ range: Range<Int>, into buffer: UnsafeMutablePointer<Scalar>) {
        let d = x.cols, m = y.rows
        guard !range.isEmpty, m > 0 else { return }
        if d > 0 {
            x.withUnsafeBufferPointer { xs in
                y.withUnsafeBufferPointer { ys in
                    guard let xBase = xs.baseAddress, let yBase = ys.baseAddress else { return }
                    Scalar.gemm(transposeA: false, transposeB: true, m: range.count, n: m, k: d,
                                alpha: -2, a: xBase + range.lowerBound * d, lda: d,
                                b: yBase, ldb: d, beta: 0, c: buffer, ldc: m)
                }
            }
        } else {
            buffer.initialize(repeating: 0, count: range.count * m)
        }
        yNorms.withUnsafeBufferPointer { yn in
            guard let columnNorms = yn.baseAddress else { return }
            for (offset, i) in range.enumerated() {
                Scalar.addSquaredNorms(to: buffer + offset * m, rowNorm: xNorms[i], columnNorms: columnNorms, count: m)
            }
        }
    }
}

extension SquaredEuclideanCost {
    /// The whole matrix by fixed row blocks on every core (one gemm each), so its values do not
    /// depend on how many threads BLAS would have split one large gemm into.
    func matrix() -> Matrix<Scalar> { matrixOnAllCores() }
}

/// The squared-Euclidean cost matrix between the rows of `x` and of `y`.
public func squaredEuclideanCostMatrix(_ x: Matrix<Double>, _ y: Matrix<Double>) -> Matrix<Double> {
    SquaredEuclideanCost(x, y).matrix()
}
