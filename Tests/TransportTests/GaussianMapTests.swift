import Foundation
import LinearAlgebra
import Transport
import XCTest

/// Gaussian → Gaussian: the OT map for ‖x − y‖² is affine and known in closed form (Bures):
/// T(x) = m₂ + A(x − m₁), A = Σ₁^{-½}(Σ₁^{½} Σ₂ Σ₁^{½})^{½} Σ₁^{-½}.
/// Estimators fitted on n = 2000 samples are scored by their mean squared error to T on fresh
/// source points.
final class GaussianMapTests: XCTestCase {
    private struct Problem {
        let meanSource, meanTarget: [Double]
        let factorSource, factorTarget: Matrix<Double>  // Σ = L·Lᵀ
        let exactMap: Matrix<Double>  // A

        func sample(_ count: Int, source: Bool, rng: inout SeededRNG) -> Matrix<Double> {
            let factor = source ? factorSource : factorTarget
            let mean = source ? meanSource : meanTarget
            let z: Matrix<Double> = rng.normalMatrix(rows: count, cols: mean.count)
            let moved = z.multiplied(by: factor, transposeOther: true)
            return Matrix(rows: count, cols: mean.count) { i, j in moved[i, j] + mean[j] }
        }

        func transport(_ x: Matrix<Double>) -> Matrix<Double> {
            let centred = Matrix(rows: x.rows, cols: x.cols) { i, j in x[i, j] - meanSource[j] }
            let mapped = centred.multiplied(by: exactMap, transposeOther: true)
            return Matrix(rows: x.rows, cols: x.cols) { i, j in mapped[i, j] + meanTarget[j] }
        }
    }

    /// f(Σ) = V f(Λ) Vᵀ for a symmetric positive definite Σ.
    private static func spectralFunction(_ s: Matrix<Double>, _ f: (Double) -> Double) throws -> Matrix<Double> {
        let eigen = try s.symmetricEigen()
        let v = eigen.vectors
        let scaled = Matrix(rows: v.rows, cols: v.cols) { i, j in v[i, j] * f(eigen.values[j]) }
        return scaled.multiplied(by: v, transposeOther: true)
    }

    private static func makeProblem(dimension d: Int, rng: inout SeededRNG) throws -> Problem {
        func factor() -> Matrix<Double> {
            let b: Matrix<Double> = rng.normalMatrix(rows: d, cols: d)
            return Matrix(rows: d, cols: d) { i, j in 0.5 * b[i, j] + (i == j ? 0.8 : 0) }
        }
        let l1 = factor(), l2 = factor()
        let sigma1 = l1.multiplied(by: l1, transposeOther: true)
        let sigma2 = l2.multiplied(by: l2, transposeOther: true)
        let root1 = try spectralFunction(sigma1) { $0.squareRoot() }
        let inverseRoot1 = try spectralFunction(sigma1) { 1 / $0.squareRoot() }
        let middle = try spectralFunction(root1 * sigma2 * root1) { $0.squareRoot() }
        let a = inverseRoot1 * middle * inverseRoot1
        return Problem(meanSource: (0..<d).map { _ in rng.normal() },
                       meanTarget: (0..<d).map { _ in 2 * rng.normal() },
                       factorSource: l1, factorTarget: l2, exactMap: a)
    }

    func testClosedFormIsAnOTMapBetweenTheLaws() throws {
        // Sanity of the reference itself: A is symmetric positive definite and A Σ₁ A = Σ₂.
        var rng = SeededRNG(seed: 11)
        let problem = try Self.makeProblem(dimension: 5, rng: &rng)
        let a = problem.exactMap
        XCTAssertLessThan(a.maxAbsDifference(a.transposed), 1e-10)
        XCTAssertGreaterThan(try a.symmetricEigen().values[0], 0)
        let sigma1 = problem.factorSource.multiplied(by: problem.factorSource, transposeOther: true)
        let sigma2 = problem.factorTarget.multiplied(by: problem.factorTarget, transposeOther: true)
        XCTAssertLessThan((a * sigma1 * a).maxAbsDifference(sigma2), 1e-9)
    }

    func testProgOTAndTunedEOTBeatIdentityAndMeanShift() throws {
        var rng = SeededRNG(seed: 12)
        let problem = try Self.makeProblem(dimension: 5, rng: &rng)
        let source = problem.sample(2000, source: true, rng: &rng)
        let target = problem.sample(2000, source: false, rng: &rng)
        let query = problem.sample(500, source: true, rng: &rng)
        let exact = problem.transport(query)

        func error(_ estimator: some MapEstimator) throws -> (mse: Double, converged: Bool) {
            var fitRNG = SeededRNG(seed: 5)
            let map = try estimator.fit(source: source, target: target, rng: &fitRNG)
            let predicted = try map.transport(query)
            var total = 0.0
            for (p, e) in zip(predicted.storage, exact.storage) { total += (p - e) * (p - e) }
            return (total / Double(query.rows), map.converged)
        }
        let identity = try error(IdentityEstimator())
        let meanShift = try error(MeanShiftEstimator())
        let eot = try error(EntropicMapEstimator())
        let progot = try error(ProgOTEstimator(steps: 8))
        print("Gaussian d=5 n=2000 MSE to the closed-form map: identity \(identity.mse), mean shift \(meanShift.mse), tuned EOT \(eot.mse), ProgOT(8, lin) \(progot.mse)")
        XCTAssertTrue(eot.converged && progot.converged)
        XCTAssertLessThan(meanShift.mse, identity.mse)
        // Stated bounds: both estimators are within 1/4 of the mean-shift error.
        XCTAssertLessThan(eot.mse, 0.25 * meanShift.mse)
        XCTAssertLessThan(progot.mse, 0.25 * meanShift.mse)
    }
}
