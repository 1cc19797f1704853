import Foundation
import LinearAlgebra
import XCTest
import Transport
@testable import InverseTransport

/// A* = δI + diag(G1) − G for the cycle graph on `nodes` nodes (seed 004's circular graph).
func circularLaplacian(nodes: Int, delta: Double) -> Matrix<Double> {
    var a = Matrix<Double>(rows: nodes, cols: nodes)
    for i in 0..<nodes {
        a[i, i] = delta + 2
        a[i, (i + 1) % nodes] = -1
        a[i, (i + nodes - 1) % nodes] = -1
    }
    return a
}

/// Inverse OT.
final class InverseOTTests: XCTestCase {
    /// The gradient of L(A) matches central finite differences of the loss.
    func testGradientMatchesFiniteDifferences() throws {
        var rng = SeededRNG(seed: 3)
        let truth = try Matrix<Double>([[1.0, -0.4, 0.2], [0.3, 0.8, 0.0]])
        let plan = try GaussianBilinearPlan(interaction: truth, epsilon: 1)
        let (x, y) = plan.sample(120, rng: &rng)
        let problem = try InverseOTProblem(x: x, y: y, epsilon: 1)
        let tight = SinkhornOptions(epsilon: .auto, threshold: 1e-13, maxIterations: 100_000)
        let a = try Matrix<Double>([[0.5, 0.1, -0.3], [0.2, 0.4, 0.6]])
        let evaluation = try problem.evaluate(a, sinkhorn: tight)
        let h = 1e-5
        for i in 0..<2 {
            for j in 0..<3 {
                var plus = a, minus = a
                plus[i, j] += h
                minus[i, j] -= h
                let numeric = (try problem.loss(plus, sinkhorn: tight).loss - problem.loss(minus, sinkhorn: tight).loss) / (2 * h)
                XCTAssertTrue(Swift.abs(numeric - evaluation.gradient[i, j]) < 1e-6 * Swift.max(1, Swift.abs(numeric)),
                        "∂L/∂A[\(i),\(j)]: analytic \(evaluation.gradient[i, j]), numeric \(numeric)")
            }
        }
    }

    /// The closed-form Gaussian plan has the cross-covariance its samples show.
    func testGaussianPlanSamples() throws {
        var rng = SeededRNG(seed: 5)
        let truth = circularLaplacian(nodes: 4, delta: 1)
        let plan = try GaussianBilinearPlan(interaction: truth, epsilon: 2)
        // At the plan's own Σ, the precision's cross block is −A/ε: Σ(I − ΣᵀΣ)⁻¹ = A/ε.
        let sigma = plan.crossCovariance
        let gram = combine(.identity(4), 1, sigma.multiplied(by: sigma, transposeSelf: true), -1)
        let eigen = try gram.symmetricEigen()
        let inverse = Matrix<Double>(rows: 4, cols: 4) { i, j in
            (0..<4).reduce(0.0) { $0 + eigen.vectors[i, $1] * eigen.vectors[j, $1] / eigen.values[$1] }
        }
        XCTAssertTrue(sigma.multiplied(by: inverse).maxAbsDifference(combine(truth, 0.5, truth, 0)) < 1e-10)
        let (x, y) = plan.sample(40_000, rng: &rng)
        let empirical = x.multiplied(by: y, transposeSelf: true, scale: 1 / 40_000)
        XCTAssertTrue(empirical.maxAbsDifference(sigma) < 0.03)
        let yCovariance = y.multiplied(by: y, transposeSelf: true, scale: 1 / 40_000)
        XCTAssertTrue(yCovariance.maxAbsDifference(.identity(4)) < 0.03)
    }

    /// The Sinkhorn plan of the population A has the observed moments (∇L(A*) ≈ 0 for large n).
    func testGradientVanishesNearTruth() throws {
        var rng = SeededRNG(seed: 11)
        let truth = circularLaplacian(nodes: 5, delta: 1)
        let plan = try GaussianBilinearPlan(interaction: truth, epsilon: 10)
        let (x, y) = plan.sample(2000, rng: &rng)
        let problem = try InverseOTProblem(x: x, y: y, epsilon: 10)
        let atTruth = try problem.evaluate(truth)
        let atZero = try problem.evaluate(Matrix(rows: 5, cols: 5))
        XCTAssertTrue(frobenius(atTruth.gradient) < 0.25 * frobenius(atZero.gradient))
    }

    /// ℓ1 inverse OT recovers the support of a 10-node circular graph's Laplacian from 10⁴ pairs.
    func testRecoversCircularSupport() throws {
        var rng = SeededRNG(seed: 0)
        let truth = circularLaplacian(nodes: 10, delta: 1)
        let epsilon = 10.0, n = 10_000
        let (x, y) = try GaussianBilinearPlan(interaction: truth, epsilon: epsilon).sample(n, rng: &rng)
        let problem = try InverseOTProblem(x: x, y: y, epsilon: epsilon)
        let lambda = 1.5 * (Foundation.log(Double(n)) / Double(n)).squareRoot()
        let start = Date()
        let result = try InverseOTEstimator.fit(problem, options: InverseOTOptions(penalty: .l1, lambda: lambda))
        print("recoversCircularSupport: \(result.solver.rawValue), \(result.outerIterations) steps, \(result.planPasses) plan passes, "
              + "\(Date().timeIntervalSince(start)) s, converged \(result.converged), loss \(result.loss)")
        let truthSupport = truth.storage.map { $0 != 0 }
        let wrong = zip(result.support, truthSupport).filter { $0 != $1 }.count
        print(result.interaction.nestedRows.map { $0.map { String(format: "%6.2f", $0) }.joined(separator: " ") }.joined(separator: "\n"))
        XCTAssertTrue(result.converged)
        XCTAssertTrue(wrong == 0, "\(wrong) wrong positions")
    }

    /// Nuclear-norm inverse OT recovers the rank of a low-rank interaction.
    func testRecoversRank() throws {
        var rng = SeededRNG(seed: 1)
        let u = try Matrix<Double>([[1.0, 0.0], [0.5, 1.0], [-0.5, 0.5], [0.0, -1.0], [1.0, 0.5], [0.5, -0.5]])
        let truth = u.multiplied(by: u, transposeOther: true, scale: 2)  // rank 2, 6 × 6
        let epsilon = 1.0, n = 1000
        let (x, y) = try GaussianBilinearPlan(interaction: truth, epsilon: epsilon).sample(n, rng: &rng)
        let problem = try InverseOTProblem(x: x, y: y, epsilon: epsilon)
        let lambda = 2 * (Foundation.log(Double(n)) / Double(n)).squareRoot()
        let result = try InverseOTEstimator.fit(problem, options: InverseOTOptions(penalty: .nuclear, lambda: lambda))
        print("recoversRank: singular values \(result.singularValues), \(result.outerIterations) outer")
        XCTAssertTrue(result.converged)
        XCTAssertTrue(result.rank == 2)
        // Without the penalty the estimate has full rank: the rank is the penalty's doing.
        let unpenalised = try InverseOTEstimator.fit(problem, options: InverseOTOptions(penalty: .none, maxIterations: 5))
        XCTAssertTrue(unpenalised.rank == 6)
    }
}

/// Inverse OT certificate.
final class GaussianCertificateTests: XCTestCase {
    /// The population Hessian matches finite differences of the gradient on a large sample.
    func testHessianMatchesSampleCurvature() throws {
        let truth = try Matrix<Double>([[2.0, -0.5], [-0.5, 1.5]])
        let epsilon = 2.0
        let m = try GaussianCertificate.hessian(interaction: truth, epsilon: epsilon)
        var rng = SeededRNG(seed: 21)
        let (x, y) = try GaussianBilinearPlan(interaction: truth, epsilon: epsilon).sample(3000, rng: &rng)
        let problem = try InverseOTProblem(x: x, y: y, epsilon: epsilon)
        let h = 0.05
        for k in 0..<4 {
            var plus = truth, minus = truth
            plus[k / 2, k % 2] += h
            minus[k / 2, k % 2] -= h
            let column = combine(try problem.evaluate(plus).gradient, 1 / (2 * h), try problem.evaluate(minus).gradient, -1 / (2 * h))
            for r in 0..<4 {
                XCTAssertTrue(Swift.abs(column.storage[r] - m[r, k]) < 0.1 * Swift.max(0.05, Swift.abs(m[k, k])),
                        "M[\(r),\(k)]: population \(m[r, k]), sample \(column.storage[r])")
            }
        }
    }

    /// The ℓ1 certificate equals sign(A*) on the support.
    func testCertificateOnSupport() throws {
        let truth = circularLaplacian(nodes: 6, delta: 1)
        let (z, off, _) = try GaussianCertificate.l1(interaction: truth, epsilon: 10)
        for k in truth.storage.indices where truth.storage[k] != 0 {
            XCTAssertTrue(Swift.abs(z.storage[k] - (truth.storage[k] > 0 ? 1 : -1)) < 1e-9)
        }
        XCTAssertTrue(off.isFinite && off >= 0)
        for epsilon in [1.0, 10, 100] {
            let value = try GaussianCertificate.l1(interaction: circularLaplacian(nodes: 10, delta: 1), epsilon: epsilon).offSupportMaximum
            print("certificate, 10-node circular graph, ε = \(epsilon): ‖ẑ_Ic‖∞ = \(value)")
        }
    }
}
