import Foundation
import LinearAlgebra
import XCTest
import Transport
@testable import InverseTransport

/// Pairs from the entropic coupling of two point pools under a cost matrix: each pool point x_i
/// is paired `repeats` times with a y_j drawn from the plan's row i (P_ij / a_i).
func pairsFromPlan(
    x: Matrix<Double>, y: Matrix<Double>, cost: Matrix<Double>, epsilon: Double, repeats: Int, rng: inout SeededRNG
) throws -> (x: Matrix<Double>, y: Matrix<Double>) {
    let result = try CostMatrixSinkhorn.solve(cost: cost, epsilon: epsilon,
                                              options: SinkhornOptions(threshold: 1e-12, maxIterations: 100_000))
    let plan = try CostMatrixSinkhorn.plan(cost: cost, epsilon: epsilon, potentials: SinkhornPotentials(f: result.f, g: result.g))
    let n = x.rows * repeats
    var px = Matrix<Double>(rows: n, cols: x.cols), py = Matrix<Double>(rows: n, cols: y.cols)
    for i in 0..<x.rows {
        let rowMass = (0..<y.rows).reduce(0.0) { $0 + plan[i, $1] }
        for r in 0..<repeats {
            var u = rng.uniform() * rowMass, j = 0
            while j < y.rows - 1, u >= plan[i, j] { u -= plan[i, j]; j += 1 }
            let row = i * repeats + r
            for c in 0..<x.cols { px[row, c] = x[i, c] }
            for c in 0..<y.cols { py[row, c] = y[j, c] }
        }
    }
    return (px, py)
}

/// Inverse OT on a basis of costs.
final class InverseOTBasisTests: XCTestCase {
    /// The bilinear basis c_ij = −x_i·y_j gives the loss and gradient of the bilinear family.
    func testBilinearBasisAgrees() throws {
        var rng = SeededRNG(seed: 21)
        let truth = try Matrix<Double>([[0.8, -0.3, 0.1], [0.2, 0.6, 0.0]])
        let (x, y) = try GaussianBilinearPlan(interaction: truth, epsilon: 1).sample(80, rng: &rng)
        let bilinear = try InverseOTProblem(x: x, y: y, epsilon: 1)
        var costs: [Matrix<Double>] = []
        for i in 0..<2 {
            for j in 0..<3 { costs.append(Matrix(rows: 80, cols: 80) { r, c in -x[r, i] * y[c, j] }) }
        }
        let basis = try InverseOTBasisProblem(costs: costs, epsilon: 1)
        let a = try Matrix<Double>([[0.5, 0.1, -0.3], [0.2, 0.4, 0.6]])
        let theta = try Matrix(rows: 6, cols: 1, storage: a.storage)
        let tight = SinkhornOptions(threshold: 1e-12, maxIterations: 100_000)
        let fromBilinear = try bilinear.evaluate(a, sinkhorn: tight)
        let fromBasis = try basis.evaluate(theta, sinkhorn: tight)
        XCTAssertTrue(Swift.abs(fromBilinear.loss - fromBasis.loss) < 1e-9)
        for k in 0..<6 {
            XCTAssertTrue(Swift.abs(fromBilinear.gradient.storage[k] - fromBasis.gradient[k, 0]) < 1e-9,
                    "∂L/∂θ_\(k): bilinear \(fromBilinear.gradient.storage[k]), basis \(fromBasis.gradient[k, 0])")
        }
        XCTAssertTrue(try Swift.abs(bilinear.initialStep() - basis.initialStep()) < 1e-9 * bilinear.initialStep())
    }

    /// The gradient for a basis of translation-invariant costs matches finite differences.
    func testGradientMatchesFiniteDifferences() throws {
        var rng = SeededRNG(seed: 22)
        let x = rng.normalMatrix(rows: 70, cols: 2, as: Double.self)
        let y = rng.normalMatrix(rows: 70, cols: 2, as: Double.self)
        let problem = try InverseOTBasisProblem(x: x, y: y, basis: [.squaredEuclidean, .pNorm(1.5), .pNorm(3)], epsilon: 0.7)
        let theta = try Matrix<Double>([[0.6], [0.3], [-0.1]])
        let tight = SinkhornOptions(threshold: 1e-13, maxIterations: 100_000)
        let evaluation = try problem.evaluate(theta, sinkhorn: tight)
        let h = 1e-5
        for k in 0..<3 {
            var plus = theta, minus = theta
            plus[k, 0] += h
            minus[k, 0] -= h
            let numeric = (try problem.loss(plus, sinkhorn: tight).loss - problem.loss(minus, sinkhorn: tight).loss) / (2 * h)
            XCTAssertTrue(Swift.abs(numeric - evaluation.gradient[k, 0]) < 1e-6 * Swift.max(1, Swift.abs(numeric)),
                    "∂L/∂θ_\(k): analytic \(evaluation.gradient[k, 0]), numeric \(numeric)")
        }
    }

    /// A basis cost that is a function of x plus one of y is refused, and so is a dependent basis.
    func testUnidentifiableBasisIsRefused() throws {
        var rng = SeededRNG(seed: 23)
        let x = rng.normalMatrix(rows: 20, cols: 1, as: Double.self)
        let y = rng.normalMatrix(rows: 20, cols: 1, as: Double.self)
        let separable = Matrix<Double>(rows: 20, cols: 20) { i, j in x[i, 0] * x[i, 0] + 3 * y[j, 0] }
        XCTAssertThrowsError(try InverseOTBasisProblem(costs: [separable], epsilon: 1))
        let square = GroundCost.squaredEuclidean.matrix(x, y)
        // ‖x − y‖² = x² + y² − 2xy: after centring, a multiple of −xy.
        let product = Matrix<Double>(rows: 20, cols: 20) { i, j in -x[i, 0] * y[j, 0] }
        XCTAssertThrowsError(try InverseOTBasisProblem(costs: [square, product], epsilon: 1))
    }

    /// θ of c_θ = θ₁|x₁ − y₁|^1.5 + θ₂|x₂ − y₂|^1.5 + θ₃|x₁ − y₂|^1.5 (θ* = (1, 0, 1)) is recovered
    /// from coupling samples, and the ℓ1 penalty finds the zero weight's support.
    func testRecoversWeightsAndSupport() throws {
        var rng = SeededRNG(seed: 24)
        let pairsOfCoordinates = [(0, 0), (1, 1), (0, 1)]
        func basis(_ x: Matrix<Double>, _ y: Matrix<Double>) -> [Matrix<Double>] {
            pairsOfCoordinates.map { (a, b) in
                Matrix(rows: x.rows, cols: y.rows) { i, j in
                    let z = Swift.abs(x[i, a] - y[j, b])
                    return z * z.squareRoot()
                }
            }
        }
        let truth = [1.0, 0.0, 1.0]
        let epsilon = 0.5
        let poolX = rng.normalMatrix(rows: 250, cols: 2, as: Double.self)
        let poolY = rng.normalMatrix(rows: 250, cols: 2, as: Double.self)
        let pool = basis(poolX, poolY)
        let cost = Matrix<Double>(rows: 250, cols: 250) { i, j in (0..<3).reduce(0.0) { $0 + truth[$1] * pool[$1][i, j] } }
        let (x, y) = try pairsFromPlan(x: poolX, y: poolY, cost: cost, epsilon: epsilon, repeats: 2, rng: &rng)
        let problem = try InverseOTBasisProblem(costs: basis(x, y), epsilon: epsilon)
        var start = Date()
        let free = try InverseOTEstimator.fit(problem, options: InverseOTOptions(penalty: .none))
        print("basis iOT, n = \(problem.pairs), ε = \(epsilon): unpenalised θ = \(free.interaction.storage) (\(free.solver.rawValue), \(free.outerIterations) steps, \(free.planPasses) plan passes, \(Date().timeIntervalSince(start)) s)")
        let lambda = 0.05
        start = Date()
        let sparse = try InverseOTEstimator.fit(problem, options: InverseOTOptions(penalty: .l1, lambda: lambda))
        print("basis iOT, ℓ1 λ = \(lambda): θ = \(sparse.interaction.storage), support \(sparse.support) (\(sparse.outerIterations) steps, \(Date().timeIntervalSince(start)) s)")
        XCTAssertTrue(free.converged && sparse.converged)
        for k in 0..<3 { XCTAssertTrue(Swift.abs(free.interaction[k, 0] - truth[k]) < 0.15, "θ_\(k) = \(free.interaction[k, 0]), truth \(truth[k])") }
        XCTAssertEqual(sparse.support, [true, false, true])
    }
}
