import Foundation
import LinearAlgebra
@testable import NeuralTransport
import Transport
import XCTest

/// The "rotated Gaussians" of the energy-guided EOT benchmark (the authors'
/// `src/gauss2gauss/dataset.py`): N(0, QΛQᵀ), Λ = exp(linspace(log 0.5, log 2, D)), Q a random
/// rotation (from our generator, not theirs).
struct RotatedGaussian {
    let weight: Matrix<Double>  // W, Σ = WWᵀ

    init(dimension d: Int, rng: inout SeededRNG) throws {
        let q = try (rng.normalMatrix(rows: d, cols: d) as Matrix<Double>).thinSVD().u
        let eigenvalues = (0..<d).map { j in
            d == 1 ? 1 : Foundation.exp(Foundation.log(0.5) + (Foundation.log(2.0) - Foundation.log(0.5)) * Double(j) / Double(d - 1))
        }
        weight = Matrix(rows: d, cols: d) { i, j in q[i, j] * eigenvalues[j].squareRoot() }
    }

    var covariance: Matrix<Double> { weight.multiplied(by: weight, transposeOther: true) }

    func sample(_ n: Int, rng: inout SeededRNG) -> Matrix<Double> {
        (rng.normalMatrix(rows: n, cols: weight.rows) as Matrix<Double>).multiplied(by: weight, transposeOther: true)
    }
}

final class EnergyGuidedOTTests: XCTestCase {
    // MARK: the potential network's passes

    func testPotentialGradientsMatchFiniteDifferences() {
        var rng = SeededRNG(seed: 3)
        for slope in [0.0, 0.2] {
            let network = PotentialMLP<Double>(inputDimension: 3, hiddenUnits: [7, 5], negativeSlope: slope, rng: &rng)
            let y: Matrix<Double> = rng.normalMatrix(rows: 6, cols: 3)
            let step = 1e-6
            // ∇_y f, coordinate by coordinate.
            let analytic = network.inputGradients(y)
            for i in 0..<y.rows {
                for j in 0..<y.cols {
                    var plus = y, minus = y
                    plus[i, j] += step
                    minus[i, j] -= step
                    let numeric = (network.values(plus)[i] - network.values(minus)[i]) / (2 * step)
                    XCTAssertEqual(analytic[i, j], numeric, accuracy: 1e-6, "∇_y f at row \(i), coordinate \(j), slope \(slope)")
                }
            }
            // ∂/∂θ Σ w_i f(y_i), every parameter.
            let weights = (0..<y.rows).map { _ in rng.normal() }
            let (value, gradient) = network.weightedSum(y, weights: weights)
            XCTAssertEqual(value, zip(network.values(y), weights).reduce(0) { $0 + $1.0 * $1.1 }, accuracy: 1e-12)
            let parameters = network.flatParameters
            XCTAssertEqual(gradient.count, parameters.count)
            XCTAssertEqual(parameters.count, network.parameterCount)
            for index in parameters.indices {
                var plus = network, minus = network
                var shifted = parameters
                shifted[index] += step
                plus.flatParameters = shifted
                shifted[index] -= 2 * step
                minus.flatParameters = shifted
                let numeric = (plus.weightedSum(y, weights: weights).value - minus.weightedSum(y, weights: weights).value) / (2 * step)
                XCTAssertEqual(gradient[index], numeric, accuracy: 1e-6, "parameter \(index), slope \(slope)")
            }
        }
    }

    // MARK: Langevin sampling

    /// With u_θ ≡ 0 the plan's conditional is N(x, εI). The discretised chain
    /// y ← (1 − a)y + a·x + √η·ξ (a = η/(2ε)) has the exact stationary law N(x, ε/(1 − η/(4ε))·I),
    /// which the samples must match.
    func testLangevinWithFlatPotentialSamplesTheCostKernel() throws {
        var rng = SeededRNG(seed: 5)
        var flat = PotentialMLP<Double>(inputDimension: 2, hiddenUnits: [4], rng: &rng)
        flat.weights[1] = Matrix(rows: 1, cols: 4)
        flat.biases[1] = [0.7]
        let sampler = LangevinSampler(epsilon: 0.5, stepSize: 0.05)
        let x = try Matrix<Double>([[1, -2], [3, 0.5]])
        let conditions = x.rows(at: (0..<4000).map { $0 % 2 })
        let start = Matrix<Double>(rows: 4000, cols: 2)
        let samples = sampler.run(flat, chains: start, conditions: conditions, steps: 400, rng: &rng)
        let expectedVariance = 0.5 / (1 - 0.05 / (4 * 0.5))
        for point in 0..<2 {
            let rows = samples.rows(at: Array(stride(from: point, to: 4000, by: 2)))
            for j in 0..<2 {
                let column = rows.column(j)
                let mean = column.reduce(0, +) / Double(column.count)
                let variance = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(column.count - 1)
                XCTAssertEqual(mean, x[point, j], accuracy: 0.06)
                XCTAssertEqual(variance, expectedVariance, accuracy: 0.06 * expectedVariance)
            }
        }
        // Noise s ≠ √η tempers the plan to ε·s²/η.
        let tempered = LangevinSampler(epsilon: 0.5, stepSize: 0.05, noise: 0.05.squareRoot() * 2)
        let wide = tempered.run(flat, chains: start, conditions: conditions, steps: 400, rng: &rng)
            .rows(at: Array(stride(from: 0, to: 4000, by: 2))).column(0)
        let wideMean = wide.reduce(0, +) / Double(wide.count)
        let wideVariance = wide.reduce(0) { $0 + ($1 - wideMean) * ($1 - wideMean) } / Double(wide.count - 1)
        XCTAssertEqual(wideVariance, 4 * expectedVariance, accuracy: 0.06 * 4 * expectedVariance)
    }

    // MARK: the closed form used as the reference

    /// The closed-form cross-covariance against a discrete Sinkhorn plan on samples (this
    /// project's cost ‖x − y‖² at 2ε is the plan of ½‖x − y‖² at ε).
    func testClosedFormPlanMatchesSinkhornOnSamples() throws {
        var rng = SeededRNG(seed: 11)
        let source = try RotatedGaussian(dimension: 2, rng: &rng), target = try RotatedGaussian(dimension: 2, rng: &rng)
        let n = 1500
        let x = source.sample(n, rng: &rng), y = target.sample(n, rng: &rng)
        let epsilon = 0.5
        var options = SinkhornOptions()
        options.epsilon = .fixed(2 * epsilon)
        options.threshold = 1e-6
        options.maxIterations = 10_000
        let solution = try Sinkhorn.solve(source: x, target: y, options: options)
        XCTAssertTrue(solution.converged)
        var cross = Matrix<Double>(rows: 2, cols: 2)
        for i in 0..<n {
            for j in 0..<n {
                let cost = (0..<2).reduce(0.0) { $0 + (x[i, $1] - y[j, $1]) * (x[i, $1] - y[j, $1]) }
                let p = Foundation.exp((Double(solution.f[i]) + Double(solution.g[j]) - cost) / (2 * epsilon)) / Double(n * n)
                for a in 0..<2 { for b in 0..<2 { cross[a, b] += p * x[i, a] * y[j, b] } }
            }
        }
        // The samples' own covariances, so only the plan's coupling is compared.
        func covariance(_ m: Matrix<Double>) -> Matrix<Double> {
            m.multiplied(by: m, transposeSelf: true, scale: 1 / Double(m.rows))
        }
        let closed = try GaussianEntropicPlan(sourceCovariance: covariance(x), targetCovariance: covariance(y), epsilon: epsilon)
        XCTAssertLessThan(cross.maxAbsDifference(closed.crossCovariance), 0.03,
                          "Sinkhorn \(cross.nestedRows) vs closed form \(closed.crossCovariance.nestedRows)")
        // And ε → large decouples: C → 0.
        let loose = try GaussianEntropicPlan(sourceCovariance: source.covariance, targetCovariance: target.covariance, epsilon: 1e4)
        XCTAssertLessThan(loose.crossCovariance.storage.map(abs).max() ?? 1, 1e-3)
    }

    func testBuresWassersteinUVPIsZeroOnTheTruthAndGrowsWithError() throws {
        var rng = SeededRNG(seed: 2)
        let gaussian = try RotatedGaussian(dimension: 4, rng: &rng)
        let samples = gaussian.sample(200_000, rng: &rng)
        let exact = try BuresWassersteinUVP.percentage(samples: samples, mean: [0, 0, 0, 0], covariance: gaussian.covariance)
        XCTAssertLessThan(exact, 0.05)
        let shifted = try BuresWassersteinUVP.percentage(samples: samples, mean: [1, 0, 0, 0], covariance: gaussian.covariance)
        // ½‖Δμ‖² / (½ tr Σ) = 1 / tr Σ.
        let trace = (0..<4).reduce(0.0) { $0 + gaussian.covariance[$1, $1] }
        XCTAssertEqual(shifted, 100 / trace, accuracy: 0.3)
    }

    // MARK: Gaussian → Gaussian against the closed-form plan

    /// The short training budget of these tests: 300 steps of 50 Langevin steps on batches of
    /// 256, hidden [64, 64, 64], with η = ε/10 (the default η = 0.01 pulls chains only 0.5 % of
    /// the way to x per step at ε = 1, too slow for this budget: the D = 2 plan then scored 7.1 %); about 1 % of the authors' Langevin work per fit (20,000 × 100 ×
    /// 1024, REFERENCES.md Part A §2.4), so the thresholds are wider than the paper's BW₂-UVP.
    private func trainedMap(_ x: Matrix<Float>, _ y: Matrix<Float>, epsilon: Double, rng: inout SeededRNG) throws -> EnergyGuidedMap<Float> {
        var estimator = EnergyGuidedOTEstimator()
        estimator.epsilon = .fixed(epsilon)
        estimator.iterations = 300
        estimator.trainingSteps = 50
        estimator.batchSize = 256
        estimator.hiddenUnits = [64, 64, 64]
        estimator.stepSize = epsilon / 10
        return try estimator.train(x, y, &rng)
    }

    private struct PlanScores {
        let marginal: Double
        let plan: Double
        let identityPlan: Double
    }

    private func scores(of map: EnergyGuidedMap<Float>, source: RotatedGaussian, target: RotatedGaussian, epsilon: Double,
                        rng: inout SeededRNG) throws -> PlanScores {
        let d = source.weight.rows
        let query = source.sample(4000, rng: &rng)
        let samples = try map.transport(query.converted(to: Float.self)).converted(to: Double.self)
        let plan = try GaussianEntropicPlan(sourceCovariance: source.covariance, targetCovariance: target.covariance, epsilon: epsilon)
        func joint(_ y: Matrix<Double>) -> Matrix<Double> {
            Matrix(rows: query.rows, cols: 2 * d) { i, j in j < d ? query[i, j] : y[i, j - d] }
        }
        let zeros = [Double](repeating: 0, count: 2 * d)
        return PlanScores(
            marginal: try BuresWassersteinUVP.percentage(samples: samples, mean: Array(zeros[0..<d]), covariance: target.covariance),
            plan: try BuresWassersteinUVP.percentage(samples: joint(samples), mean: zeros, covariance: plan.jointCovariance),
            identityPlan: try BuresWassersteinUVP.percentage(samples: joint(query), mean: zeros, covariance: plan.jointCovariance))
    }

    /// BW₂-UVP of the sampled target marginal and of the sampled plan (x, y) against the closed
    /// form. The paper's EgEOT reaches 0.01–0.2 % here after its full budget (Table 1: D = 2 / 16,
    /// ε = 0.1: 0.01 / 0.2; ε = 1: 0.03 / 0.1 — read from a secondary summary of the paper, see
    /// docs/results.md). Measured with this budget (seed 1): D = 2: plan 1.0 % (ε 0.1) and 0.25 % (ε 1);
    /// D = 16: 1.0 % and 1.1 %; the map x ↦ x scores 6–34 %. The bounds are about 2.5× the
    /// measured values and at least 5× below the identity's.
    func testGaussianPlansMatchTheClosedForm() throws {
        for (d, bounds) in [(2, [0.1: (5.0, 2.5), 1.0: (1.5, 1.0)]), (16, [0.1: (4.5, 2.5), 1.0: (5.0, 3.0)])] {
            var rng = SeededRNG(seed: 1)
            let source = try RotatedGaussian(dimension: d, rng: &rng), target = try RotatedGaussian(dimension: d, rng: &rng)
            let x = source.sample(5000, rng: &rng).converted(to: Float.self)
            let y = target.sample(5000, rng: &rng).converted(to: Float.self)
            var conditionalTraces: [Double: (sampled: Double, exact: Double)] = [:]
            for epsilon in [0.1, 1.0] {
                let map = try trainedMap(x, y, epsilon: epsilon, rng: &rng)
                let score = try scores(of: map, source: source, target: target, epsilon: epsilon, rng: &rng)
                let (marginalBound, planBound) = try XCTUnwrap(bounds[epsilon])
                XCTAssertLessThan(score.marginal, marginalBound, "D = \(d), ε = \(epsilon): target marginal BW₂-UVP %")
                XCTAssertLessThan(score.plan, planBound, "D = \(d), ε = \(epsilon): plan BW₂-UVP %")
                XCTAssertLessThan(5 * score.plan, score.identityPlan, "D = \(d), ε = \(epsilon): no better than x ↦ x")
                if d == 2 {
                    // Cov(y | x) is the same at every x: average the sampled trace over a few x.
                    let points = try Matrix<Float>([[0.1, 0.1], [0.5, 0.5], [1.5, -1.5]])
                    let moments = try map.conditionalMoments(points, samplesPerPoint: 2000, rng: &rng)
                    let sampled = moments.variance.storage.reduce(0, +) / Double(points.rows)
                    let exact = try GaussianEntropicPlan(sourceCovariance: source.covariance, targetCovariance: target.covariance,
                                                         epsilon: epsilon).conditionalCovariance()
                    conditionalTraces[epsilon] = (sampled, exact[0, 0] + exact[1, 1])
                }
            }
            if d == 2 {
                let small = try XCTUnwrap(conditionalTraces[0.1]), large = try XCTUnwrap(conditionalTraces[1.0])
                XCTAssertGreaterThan(large.sampled, 3 * small.sampled, "larger ε, wider conditionals")
                for (epsilon, trace) in conditionalTraces {
                    XCTAssertEqual(trace.sampled, trace.exact, accuracy: 0.25 * trace.exact, "tr Cov(y | x) at ε = \(epsilon)")
                }
            }
        }
    }

    // MARK: the 2-D toy

    /// Seed 003's toy: N(0, I₂) → a Swiss roll (scikit-learn's `make_swiss_roll(noise = 0.5)`,
    /// coordinates 0 and 2, divided by 8, as the authors' notebook), ε = 0.1. The sampled cloud
    /// must sit far closer to the roll than the source does.
    func testGaussianToSwissRollLandsOnTheRoll() throws {
        var rng = SeededRNG(seed: 7)
        func swissRoll(_ n: Int) -> Matrix<Float> {
            var points = Matrix<Float>(rows: n, cols: 2)
            for i in 0..<n {
                let t = 1.5 * Double.pi * (1 + 2 * rng.uniform())
                points[i, 0] = Float((t * Foundation.cos(t) + 0.5 * rng.normal()) / 8)
                points[i, 1] = Float((t * Foundation.sin(t) + 0.5 * rng.normal()) / 8)
            }
            return points
        }
        let x: Matrix<Float> = rng.normalMatrix(rows: 4000, cols: 2)
        let y = swissRoll(4000)
        var estimator = EnergyGuidedOTEstimator()
        estimator.epsilon = .fixed(0.1)
        estimator.iterations = 300
        estimator.trainingSteps = 50
        estimator.batchSize = 256
        estimator.hiddenUnits = [64, 64, 64]
        let map = try estimator.train(x, y, &rng)
        let query: Matrix<Float> = rng.normalMatrix(rows: 1000, cols: 2)
        let samples = try map.transport(query)
        let reference = swissRoll(1000)
        let options = SinkhornOptions(epsilon: .fixed(0.01), threshold: 1e-4, maxIterations: 5000, mode: .dense)
        let moved = try SinkhornDivergence.compute(source: samples, target: reference, options: options).value
        let unmoved = try SinkhornDivergence.compute(source: query, target: reference, options: options).value
        let floor = try SinkhornDivergence.compute(source: swissRoll(1000), target: reference, options: options).value
        // Measured: 0.049 against the source's 0.267, where a fresh sample of the roll scores 0.018.
        XCTAssertLessThan(moved, 0.25 * unmoved, "Sinkhorn divergence to the roll: samples \(moved), source \(unmoved)")
        XCTAssertGreaterThan(unmoved, 5 * floor, "the source is far from the roll")
        // The map is a value: encoded and decoded, it draws the same samples.
        let decoded = try JSONDecoder().decode(EnergyGuidedMap<Float>.self, from: JSONEncoder().encode(map))
        XCTAssertEqual(try decoded.transport(query), samples)
        XCTAssertTrue(map.isStochastic)
    }
}
