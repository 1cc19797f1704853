import Foundation
import LinearAlgebra
import Transport
import XCTest

final class SinkhornTests: XCTestCase {
    private func clouds(n: Int, m: Int, d: Int, seed: UInt64, shift: Double = 1) -> (Matrix<Double>, Matrix<Double>) {
        var rng = SeededRNG(seed: seed)
        let x: Matrix<Double> = rng.normalMatrix(rows: n, cols: d)
        let y = Matrix<Double>(rows: m, cols: d) { _, j in 0.7 * rng.normal() + (j == 0 ? shift : 0) }
        return (x, y)
    }

    /// The plan P_ij = a_i b_j exp((f_i + g_j − C_ij)/ε), built independently of the solver.
    private func plan(_ result: SinkhornResult<Double>, _ x: Matrix<Double>, _ y: Matrix<Double>) -> Matrix<Double> {
        plan(f: result.f, g: result.g, epsilon: result.epsilon, x, y)
    }

    private func plan(f: [Double], g: [Double], epsilon: Double, _ x: Matrix<Double>, _ y: Matrix<Double>) -> Matrix<Double> {
        let n = x.rows, m = y.rows
        return Matrix(rows: n, cols: m) { i, j in
            var c = 0.0
            for k in 0..<x.cols { c += (x[i, k] - y[j, k]) * (x[i, k] - y[j, k]) }
            return exp((f[i] + g[j] - c) / epsilon) / Double(n * m)
        }
    }

    func testMarginalsAndStrongDuality() throws {
        let (x, y) = clouds(n: 60, m: 45, d: 4, seed: 1)
        let result = try Sinkhorn.solve(source: x, target: y,
                                        options: SinkhornOptions(epsilon: .fixed(0.3), threshold: 1e-11, maxIterations: 20_000))
        XCTAssertTrue(result.converged)
        let p = plan(result, x, y)
        for i in 0..<x.rows { XCTAssertEqual(p.row(i).reduce(0, +), 1.0 / 60, accuracy: 1e-12) }
        for j in 0..<y.rows { XCTAssertEqual(p.column(j).reduce(0, +), 1.0 / 45, accuracy: 1e-11) }
        // Primal ⟨C,P⟩ + ε·KL(P | a⊗b) equals the dual objective at the optimum.
        let cost = squaredEuclideanCostMatrix(x, y)
        var primal = 0.0
        for i in 0..<x.rows {
            for j in 0..<y.rows {
                let pij = p[i, j], ab = 1.0 / Double(60 * 45)
                primal += pij * cost[i, j] + result.epsilon * (pij * log(pij / ab) - pij + ab)
            }
        }
        XCTAssertEqual(result.regOTCost, primal, accuracy: 1e-9 * abs(primal))
    }

    func testPlanMatchesTheDirectFormulaInBothPrecisions() throws {
        let (x, y) = clouds(n: 70, m: 53, d: 5, seed: 4)
        let options = SinkhornOptions(epsilon: .fixed(0.4), threshold: 1e-9, maxIterations: 10_000)
        let double = try Sinkhorn.solve(source: x, target: y, options: options)
        let reference = plan(double, x, y)
        let built = SinkhornPlan(source: x, target: y, solution: double)
        XCTAssertLessThan(built.matrix.maxAbsDifference(reference), 1e-14 * 70 * 53)
        for i in 0..<x.rows { XCTAssertEqual(Double(built.rowSums[i]), reference.row(i).reduce(0, +), accuracy: 1e-15) }

        // The Float plan (cost, exponents and exponentials in Float) against the formula in
        // Double from the same (Float) potentials: within Float round-off, entry by entry.
        let xf = x.converted(to: Float.self), yf = y.converted(to: Float.self)
        let float = try Sinkhorn.solve(source: xf, target: yf, options: options)
        let widened = plan(f: float.f.map(Double.init), g: float.g.map(Double.init), epsilon: float.epsilon, xf.converted(to: Double.self), yf.converted(to: Double.self))
        let single = SinkhornPlan(source: xf, target: yf, solution: float)
        var worst = 0.0
        for i in 0..<x.rows {
            for j in 0..<y.rows {
                // Entries under Float's range come out near its smallest normal, not 0.
                let error = abs(Double(single.matrix[i, j]) - widened[i, j])
                worst = max(worst, widened[i, j] > 1e-30 ? error / widened[i, j] : error / 1e-30)
            }
            XCTAssertEqual(Double(single.rowSums[i]), widened.row(i).reduce(0, +), accuracy: 1e-5 / 70)
        }
        XCTAssertLessThan(worst, 1e-4)
    }

    func testDenseAndOnlineModesAgree() throws {
        let (x, y) = clouds(n: 300, m: 257, d: 8, seed: 2)
        var options = SinkhornOptions(epsilon: .auto, threshold: 1e-9, maxIterations: 10_000)
        options.mode = .dense
        let dense = try Sinkhorn.solve(source: x, target: y, options: options)
        options.mode = .online
        let online = try Sinkhorn.solve(source: x, target: y, options: options)
        XCTAssertEqual(dense.iterations, online.iterations)
        XCTAssertEqual(dense.regOTCost, online.regOTCost, accuracy: 1e-9 * abs(dense.regOTCost))
        for (a, b) in zip(dense.f, online.f) { XCTAssertEqual(a, b, accuracy: 1e-9 * max(1, abs(a))) }
        for (a, b) in zip(dense.g, online.g) { XCTAssertEqual(a, b, accuracy: 1e-9 * max(1, abs(a))) }
    }

    func testAutoEpsilonIsFivePercentOfCostStandardDeviation() throws {
        let (x, y) = clouds(n: 50, m: 40, d: 3, seed: 3)
        let cost = squaredEuclideanCostMatrix(x, y).storage
        let mean = cost.reduce(0, +) / Double(cost.count)
        let std = (cost.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(cost.count)).squareRoot()
        let result = try Sinkhorn.solve(source: x, target: y, options: SinkhornOptions(maxIterations: 1))
        XCTAssertEqual(result.epsilon, 0.05 * std, accuracy: 1e-12 * std)
        XCTAssertFalse(result.converged, "one iteration cannot meet the default threshold here")
        let relative = try Sinkhorn.solve(source: x, target: y,
                                          options: SinkhornOptions(epsilon: .relativeToMean(0.1), maxIterations: 1))
        XCTAssertEqual(relative.epsilon, 0.1 * mean, accuracy: 1e-12 * mean)
    }

    func testFloatTracksDouble() throws {
        let (x, y) = clouds(n: 80, m: 70, d: 5, seed: 4)
        let options = SinkhornOptions(epsilon: .fixed(0.5), threshold: 1e-5, maxIterations: 5000)
        let double = try Sinkhorn.solve(source: x, target: y, options: options)
        let single = try Sinkhorn.solve(source: x.converted(to: Float.self), target: y.converted(to: Float.self), options: options)
        XCTAssertTrue(single.converged)
        XCTAssertEqual(single.regOTCost, double.regOTCost, accuracy: 1e-4 * abs(double.regOTCost))
    }

    func testDivergenceIsZeroForACloudWithItselfAndPositiveOtherwise() throws {
        let (x, y) = clouds(n: 70, m: 70, d: 3, seed: 5, shift: 2)
        // Plain Sinkhorn on x → x converges slowly for small ε; ε = 1 keeps this test quick.
        let options = SinkhornOptions(epsilon: .fixed(1.0), threshold: 1e-9, maxIterations: 20_000)
        let same = try SinkhornDivergence.compute(source: x, target: x, options: options)
        XCTAssertTrue(same.converged)
        XCTAssertEqual(same.value, 0, accuracy: 1e-8)
        let different = try SinkhornDivergence.compute(source: x, target: y, options: options)
        XCTAssertGreaterThan(different.value, 1)
        let closer = try SinkhornDivergence.compute(
            source: x, target: clouds(n: 70, m: 70, d: 3, seed: 5, shift: 0.5).1, options: options)
        XCTAssertGreaterThan(closer.value, 0)
        XCTAssertLessThan(closer.value, different.value)
    }

    func testBadInputIsRejected() {
        let empty = Matrix<Double>(rows: 0, cols: 3)
        let three = Matrix<Double>(rows: 4, cols: 3, repeating: 1)
        let two = Matrix<Double>(rows: 4, cols: 2, repeating: 1)
        XCTAssertThrowsError(try Sinkhorn.solve(source: empty, target: three)) {
            XCTAssertEqual($0 as? TransportError, .emptyCloud("source"))
        }
        XCTAssertThrowsError(try Sinkhorn.solve(source: three, target: two)) {
            XCTAssertEqual($0 as? TransportError, .dimensionMismatch(source: 3, target: 2))
        }
        var nan = three
        nan[1, 1] = .nan
        XCTAssertThrowsError(try Sinkhorn.solve(source: three, target: nan)) {
            XCTAssertEqual($0 as? TransportError, .nonFinite("target"))
        }
        // Identical single points: every cost entry is 0, so the auto ε would be 0.
        XCTAssertThrowsError(try Sinkhorn.solve(source: three, target: three)) {
            XCTAssertEqual($0 as? TransportError, .invalidEpsilon(0))
        }
    }
}

final class EntropicMapTests: XCTestCase {
    /// For small ε the entropic map of a translated cloud is close to the translation, and
    /// mapping the source points reproduces the barycentric projection of the plan.
    func testMapMatchesBarycentricProjectionAndTranslation() throws {
        var rng = SeededRNG(seed: 8)
        let x: Matrix<Double> = rng.normalMatrix(rows: 120, cols: 2)
        let shift = [3.0, -1.0]
        let y = Matrix<Double>(rows: 120, cols: 2) { i, j in x[i, j] + shift[j] }
        let solution = try Sinkhorn.solve(source: x, target: y,
                                          options: SinkhornOptions(epsilon: .fixed(0.1), threshold: 1e-6, maxIterations: 5_000))
        XCTAssertTrue(solution.converged, "\(solution.iterations) iterations, error \(solution.marginalError)")
        let map = EntropicMap(solution: solution, target: y)
        let mapped = try map.transport(x)
        let cost = squaredEuclideanCostMatrix(x, y)
        for i in 0..<x.rows {
            // Barycentric projection: Σ_j P_ij y_j / a_i.
            var projection = [0.0, 0.0], rowMass = 0.0
            for j in 0..<y.rows {
                let p = exp((solution.f[i] + solution.g[j] - cost[i, j]) / solution.epsilon)
                rowMass += p
                for k in 0..<2 { projection[k] += p * y[j, k] }
            }
            for k in 0..<2 {
                XCTAssertEqual(mapped[i, k], projection[k] / rowMass, accuracy: 1e-9)
                XCTAssertEqual(mapped[i, k], x[i, k] + shift[k], accuracy: 0.25)
            }
        }
        XCTAssertThrowsError(try map.transport(Matrix<Double>(rows: 1, cols: 3)))
    }
}
