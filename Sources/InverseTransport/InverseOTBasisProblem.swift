import Foundation
import LinearAlgebra
import Transport

/// Inverse OT for a cost that is a linear combination of K given costs, c_θ = Σ_k θ_k c_k
/// (Andrade, Peyré & Poon, ICLR 2024; seed 004's "c_θ = Σ_k θ_k C_k"), observed through n pairs.
///
/// Each basis cost enters as its n × n matrix on the observed pairs, C_k[i, j] = c_k(x_i, y_j);
/// the forward problem is Sinkhorn on the dense C_θ = Σ_k θ_k C_k (`CostMatrixSinkhorn`) and
/// E_{π_θ}[c_k] = Σ_ij P_ij C_k[i, j] reads the plan once per basis cost, so memory is
/// (K + 2)·n² values: this family suits a few thousand pairs, the bilinear one
/// (`InverseOTProblem`) scales further because its cost rows come from a gemm.
///
/// For identifiability every C_k is doubly centred under the two uniform marginals
/// (C̃ = C − row means − column means + grand mean; seed 004, "Non-uniqueness for iOT"): the
/// change is a function of x plus one of y, which the potentials absorb, so π_θ is unchanged.
/// A basis cost that is itself of that form (or a multiple of another) cannot be identified and
/// is refused.
public struct InverseOTBasisProblem: InverseOTCostFamily {
    /// The doubly centred basis costs on the pairs, each n × n.
    public let costs: [Matrix<Double>]
    public let epsilon: Double
    /// E_π̂[c̃_k] = (1/n)Σ_i C̃_k[i, i], K × 1.
    public let observedMoments: Matrix<Double>
    /// λ_max of G, G_kl = (1/n²)⟨C̃_k, C̃_l⟩ (the covariance of the basis costs under a⊗b).
    let largestCostVariance: Double

    public var pairs: Int { costs.first?.rows ?? 0 }
    public var basisSize: Int { costs.count }

    /// - Parameter costs: C_k[i, j] = c_k(x_i, y_j) for the observed pairs (x_i, y_i), i, j < n.
    public init(costs rawCosts: [Matrix<Double>], epsilon: Double) throws {
        guard let first = rawCosts.first else { throw TransportError.invalidParameter("inverse OT needs at least one basis cost") }
        let n = first.rows
        guard n >= 2 else { throw TransportError.invalidParameter("inverse OT needs at least 2 observed pairs, got \(n)") }
        for (k, cost) in rawCosts.enumerated() {
            guard cost.rows == n, cost.cols == n else {
                throw TransportError.invalidParameter("basis cost \(k) is \(cost.rows)×\(cost.cols), expected \(n)×\(n) (pairs × pairs)")
            }
            guard cost.allFinite else { throw TransportError.invalidParameter("basis cost \(k) contains NaN or infinity") }
        }
        guard epsilon.isFinite, epsilon > 0 else { throw TransportError.invalidEpsilon(epsilon) }
        let centred = rawCosts.map(InverseOTBasisProblem.doublyCentred)
        let count = centred.count
        var gram = Matrix<Double>(rows: count, cols: count)
        for k in 0..<count {
            for l in k..<count {
                let value = inner(centred[k], centred[l]) / Double(n * n)
                gram[k, l] = value
                gram[l, k] = value
            }
        }
        let largestDiagonal = (0..<count).map { gram[$0, $0] }.max() ?? 0
        for k in 0..<count where gram[k, k] <= 1e-12 * Swift.max(1, largestDiagonal) {
            throw TransportError.invalidParameter(
                "basis cost \(k) is a function of x plus a function of y on these pairs: the coupling cannot identify its weight")
        }
        let eigenvalues = try gram.symmetricEigen().values
        if let smallest = eigenvalues.first, let largest = eigenvalues.last, smallest <= 1e-10 * largest {
            throw TransportError.invalidParameter(
                "the basis costs are linearly dependent on these pairs (after centring): their weights cannot be identified")
        }
        var moments = Matrix<Double>(rows: count, cols: 1)
        for k in 0..<count {
            var diagonal = 0.0
            for i in 0..<n { diagonal += centred[k][i, i] }
            moments[k, 0] = diagonal / Double(n)
        }
        self.costs = centred
        self.epsilon = epsilon
        self.largestCostVariance = eigenvalues.last ?? 0
        self.observedMoments = moments
    }

    /// The basis costs as ground costs of the observed pairs (x_i, y_i): C_k = c_k(x_i, y_j).
    public init(x: Matrix<Double>, y: Matrix<Double>, basis: [GroundCost], epsilon: Double) throws {
        guard x.rows == y.rows else {
            throw TransportError.invalidParameter("inverse OT needs one y per x: \(x.rows) source rows but \(y.rows) target rows")
        }
        guard x.cols == y.cols else {
            throw TransportError.invalidParameter("a ground cost needs x and y of one width, got \(x.cols) and \(y.cols)")
        }
        guard x.allFinite else { throw TransportError.nonFinite("source") }
        guard y.allFinite else { throw TransportError.nonFinite("target") }
        let costs = try basis.map { try $0.validated().matrix(x, y) }
        try self.init(costs: costs, epsilon: epsilon)
    }

    /// C_θ = Σ_k θ_k C̃_k.
    public func costMatrix(_ theta: Matrix<Double>) throws -> Matrix<Double> {
        try checkShape(theta)
        var total = Matrix<Double>(rows: pairs, cols: pairs)
        total.withUnsafeMutableBufferPointer { out in
            for (k, cost) in costs.enumerated() where theta[k, 0] != 0 {
                let weight = theta[k, 0]
                cost.withUnsafeBufferPointer { c in
                    for e in out.indices { out[e] += weight * c[e] }
                }
            }
        }
        return total
    }

    public func sinkhorn(
        _ theta: Matrix<Double>, options: SinkhornOptions, warmStart: SinkhornPotentials<Double>?
    ) throws -> SinkhornResult<Double> {
        try CostMatrixSinkhorn.solve(cost: try costMatrix(theta), epsilon: epsilon, options: options, warmStart: warmStart)
    }

    public func planMoments(_ theta: Matrix<Double>, potentials: SinkhornPotentials<Double>) throws -> Matrix<Double> {
        let plan = try CostMatrixSinkhorn.plan(cost: try costMatrix(theta), epsilon: epsilon, potentials: potentials)
        var moments = Matrix<Double>(rows: costs.count, cols: 1)
        for (k, cost) in costs.enumerated() { moments[k, 0] = inner(plan, cost) }
        return moments
    }

    /// ⟨P, C̃_k⟩ of the semi-dual plan at g, one per basis cost.
    public func semiDualPass(_ theta: Matrix<Double>, g: [Double]) throws -> (pass: SemiDualPass, planMoments: Matrix<Double>) {
        let pass = try CostMatrixSinkhorn.semiDualPass(cost: try costMatrix(theta), epsilon: epsilon, g: g, momentsOf: costs)
        return (pass, try Matrix(rows: costs.count, cols: 1, storage: pass.moments))
    }

    /// ε/λ_max(G): the Hessian of L at θ = 0 is G/ε.
    public func initialStep() throws -> Double {
        epsilon / Swift.max(largestCostVariance, .leastNormalMagnitude)
    }

    static func doublyCentred(_ c: Matrix<Double>) -> Matrix<Double> {
        let n = c.rows, m = c.cols
        var rowMeans = [Double](repeating: 0, count: n), columnMeans = [Double](repeating: 0, count: m)
        for i in 0..<n {
            for j in 0..<m {
                rowMeans[i] += c[i, j]
                columnMeans[j] += c[i, j]
            }
        }
        for i in 0..<n { rowMeans[i] /= Double(m) }
        for j in 0..<m { columnMeans[j] /= Double(n) }
        let grand = rowMeans.reduce(0, +) / Double(n)
        var result = c
        for i in 0..<n {
            for j in 0..<m { result[i, j] = c[i, j] - rowMeans[i] - columnMeans[j] + grand }
        }
        return result
    }
}
