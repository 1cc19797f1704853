import AnnData
import Datasets
import Foundation
import LinearAlgebra
import Stages
import TestSupport
import XCTest

/// The GMM map benchmark generator: seeded, ∇φ analytic and right, φ convex, the true map
/// pushing the source law onto the target law, and moving cells by about their spread.
final class MapBenchmarkTests: XCTestCase {
    private func options(_ dimensions: [Int], seed: UInt64 = 1, source: Int = 60, target: Int = 50) -> MapBenchmarkDataset.Options {
        MapBenchmarkDataset.Options(dimensions: dimensions, seed: seed, sourceCells: source, targetCells: target)
    }

    func testGeneratorIsSeededDeterministicAndLaidOut() throws {
        let first = try MapBenchmarkDataset.make(options([4, 8]))
        let again = try MapBenchmarkDataset.make(options([4, 8]))
        XCTAssertEqual(first, again)
        let other = try MapBenchmarkDataset.make(options([4, 8], seed: 2))
        XCTAssertNotEqual(first.obsm["gmm_d8"], other.obsm["gmm_d8"])
        // Each dimension depends only on (seed, D).
        let alone = try MapBenchmarkDataset.make(options([8]))
        XCTAssertEqual(alone.obsm["gmm_d8"], first.obsm["gmm_d8"])
        XCTAssertEqual(alone.obsm["true_map_d8"], first.obsm["true_map_d8"])
        XCTAssertNotEqual(first.obsm["gmm_d4"]?.storage.prefix(4), first.obsm["gmm_d8"]?.storage.prefix(4))

        XCTAssertEqual(first.nObs, 110)
        XCTAssertEqual(Set(first.obsm.keys), ["gmm_d4", "gmm_d8", "true_map_d4", "true_map_d8"])
        for key in first.obsm.keys { XCTAssertEqual(first.obsm[key]?.rows, 110, key) }
        XCTAssertEqual(first.obsm["gmm_d8"]?.cols, 8)
        guard case .categorical(let condition)? = first.obs["condition"] else { return XCTFail("no condition column") }
        XCTAssertEqual(condition.categories, ["source", "target"])
        XCTAssertEqual(condition.counts, [60, 50])
        XCTAssertTrue((0..<60).allSatisfy { condition[$0] == "source" })

        // Rows: source cells are mixture samples, target cells ∇φ of fresh samples, and every
        // row of true_map is ∇φ of that row.
        let problem = try MapBenchmarkDataset.Problem(dimension: 8, seed: 1)
        let points = try XCTUnwrap(first.obsm["gmm_d8"]).converted(to: Double.self)
        let images = problem.potential.gradients(points).converted(to: Float.self)
        XCTAssertLessThan(try XCTUnwrap(first.obsm["true_map_d8"]).maxAbsDifference(images), 1e-4)
        // Target cells are not the images of the source cells.
        let sourceImages = images.rows(at: Array(0..<50)), targets = try XCTUnwrap(first.obsm["gmm_d8"]).rows(at: Array(60..<110))
        XCTAssertGreaterThan(sourceImages.maxAbsDifference(targets), 0.1)
    }

    func testBadOptionsAreErrors() {
        XCTAssertThrowsError(try MapBenchmarkDataset.make(options([]))) { error in
            XCTAssertEqual("\(error)", "map benchmark: give at least one dimension (--dim)")
        }
        XCTAssertThrowsError(try MapBenchmarkDataset.make(options([4, 4]))) { error in
            XCTAssertEqual("\(error)", "map benchmark: a dimension is listed twice (4, 4)")
        }
        XCTAssertThrowsError(try MapBenchmarkDataset.make(options([0])))
        XCTAssertThrowsError(try MapBenchmarkDataset.make(options([4], source: 1)))
    }

    func testGradientMatchesFiniteDifferences() throws {
        for d in [3, 12] {
            let problem = try MapBenchmarkDataset.Problem(dimension: d, seed: 3)
            var rng = SeededRNG(seed: 9)
            let x = problem.mixture.sample(6, rng: &rng)
            let analytic = problem.potential.gradients(x)
            let h = 1e-5
            var worst = 0.0, largest = 0.0
            for i in 0..<x.rows {
                for j in 0..<d {
                    var plus = x.nestedRows[i], minus = plus
                    plus[j] += h
                    minus[j] -= h
                    let values = problem.potential.values(try Matrix([plus, minus]))
                    let numeric = (values[0] - values[1]) / (2 * h)
                    worst = max(worst, abs(numeric - analytic[i, j]))
                    largest = max(largest, abs(analytic[i, j]))
                }
            }
            XCTAssertGreaterThan(largest, 0.1)
            XCTAssertLessThan(worst, 1e-6 * max(1, largest), "d = \(d)")
        }
    }

    /// φ((1−t)x + ty) ≤ (1−t)φ(x) + tφ(y) − (a/2)·t(1−t)‖x − y‖² (a-strong convexity) along random
    /// segments between cells, and the gap is not just the quadratic's (ψ is not affine there).
    func testPotentialIsStronglyConvexAlongRandomSegments() throws {
        let problem = try MapBenchmarkDataset.Problem(dimension: 16, seed: 4)
        let a = problem.potential.quadratic
        var rng = SeededRNG(seed: 10)
        let ends = problem.mixture.sample(80, rng: &rng)
        var largestExtraGap = 0.0
        for pair in 0..<40 {
            let x = Array(ends.row(2 * pair)), y = Array(ends.row(2 * pair + 1))
            let distance = zip(x, y).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            let ts = [0.1, 0.3, 0.5, 0.7, 0.9]
            let points = try Matrix(ts.map { t in zip(x, y).map { (1 - t) * $0 + t * $1 } } + [x, y])
            let values = problem.potential.values(points)
            let (fx, fy) = (values[ts.count], values[ts.count + 1])
            for (k, t) in ts.enumerated() {
                let gap = (1 - t) * fx + t * fy - values[k]
                let quadraticGap = a / 2 * t * (1 - t) * distance
                XCTAssertGreaterThanOrEqual(gap, quadraticGap - 1e-9 * max(1, abs(fx), abs(fy)), "pair \(pair), t = \(t)")
                largestExtraGap = max(largestExtraGap, (gap - quadraticGap) / max(quadraticGap, 1e-12))
            }
        }
        XCTAssertGreaterThan(largestExtraGap, 0.5)
    }

    /// ∇φ of the source cells and the target cells are samples of one law: their Sinkhorn
    /// divergence is that of two independent samples of the target law (sampling noise), and
    /// small next to the divergence between source and target cells; so are the mean gaps.
    func testTrueMapSendsTheSourceLawToTheTargetLaw() throws {
        let data = try MapBenchmarkDataset.make(options([8], seed: 5, source: 500, target: 500))
        let points = try XCTUnwrap(data.obsm["gmm_d8"]), images = try XCTUnwrap(data.obsm["true_map_d8"])
        let source = points.rows(at: Array(0..<500)), target = points.rows(at: Array(500..<1000))
        let pushed = images.rows(at: Array(0..<500))
        let problem = try MapBenchmarkDataset.Problem(dimension: 8, seed: 5)
        var rng = SeededRNG(seed: 77)
        let fresh = problem.potential.gradients(problem.mixture.sample(500, rng: &rng)).converted(to: Float.self)
        let epsilon = try Metrics.evaluationEpsilon(testTreated: target)
        let matched = try Metrics.sinkhornDivergence(pushed, target, epsilon: epsilon).value
        let noise = try Metrics.sinkhornDivergence(fresh, target, epsilon: epsilon).value
        let unmatched = try Metrics.sinkhornDivergence(source, target, epsilon: epsilon).value
        XCTAssertLessThan(matched, 1.5 * noise, "S(T0#x, y) = \(matched), S(y', y) = \(noise)")
        XCTAssertLessThan(matched, 0.3 * unmatched, "S(T0#x, y) = \(matched), S(x, y) = \(unmatched)")
        let meanGap = Metrics.meanDistance(pushed, target), sourceGap = Metrics.meanDistance(source, target)
        XCTAssertLessThan(meanGap, 2 * Metrics.meanDistance(fresh, target) + 0.1, "mean gaps: \(meanGap), source \(sourceGap)")
        XCTAssertLessThan(meanGap, 0.5 * sourceGap)
    }

    /// The scale the docs state: at D = 64, E‖T₀(x) − x‖² and Var T₀(x) are both 0.5–1.5 × Var x,
    /// the identity's L2-UVP is far from 0, and T₀ is not affine (the best affine fit leaves
    /// more than 5 % of the variance).
    func testMapMovesCellsByAboutTheirSpreadAndIsNotAffine() throws {
        let d = 64
        let problem = try MapBenchmarkDataset.Problem(dimension: d, seed: 0)
        var rng = SeededRNG(seed: 11)
        let x = problem.mixture.sample(1500, rng: &rng)
        let t = problem.potential.gradients(x)
        let (xf, tf) = (x.converted(to: Float.self), t.converted(to: Float.self))
        let spread = Metrics.totalVariance(xf), imageSpread = Metrics.totalVariance(tf)
        let moved = try Metrics.mapMSE(predicted: xf, truth: tf)
        XCTAssertEqual(moved / spread, 1, accuracy: 0.5)
        XCTAssertEqual(imageSpread / spread, 1, accuracy: 0.5)
        XCTAssertGreaterThan(try Metrics.l2UVP(predicted: xf, truth: tf), 50)
        // Least-squares affine fit of T on x (normal equations through the eigen-decomposition).
        let (xc, _) = x.centeredColumns(), (tc, tMeans) = t.centeredColumns()
        let eigen = try xc.multiplied(by: xc, transposeSelf: true).symmetricEigen()
        let inverse = Matrix<Double>(rows: d, cols: d) { i, j in
            (0..<d).reduce(0) { $0 + eigen.vectors[i, $1] * eigen.vectors[j, $1] / eigen.values[$1] }
        }
        let slope = inverse.multiplied(by: xc.multiplied(by: tc, transposeSelf: true))
        let affine = xc.multiplied(by: slope).addingToEachRow(tMeans).converted(to: Float.self)
        XCTAssertGreaterThan(try Metrics.l2UVP(predicted: affine, truth: tf), 5)
    }

    func testWrittenFileReadsBackForTheLoadStage() throws {
        let folder = try TestPaths.scratchDirectory()
        let path = folder.appendingPathComponent("gmm.h5ad").path
        try AnnDataWriter.write(try MapBenchmarkDataset.make(options([4])), to: path)
        let loaded = try Load.run(path: path, conditionKey: "condition", features: "gmm_d4", transform: .none, trueMap: "true_map_d4")
        XCTAssertEqual(loaded.features.cols, 4)
        XCTAssertEqual(loaded.trueMap?.rows, 110)
        XCTAssertEqual(loaded.cells(labelled: "source").count, 60)
        XCTAssertThrowsError(try Load.run(path: path, conditionKey: "condition", features: "gmm_d4", transform: .none,
                                          trueMap: "true_map_d5")) { error in
            XCTAssertEqual("\(error)", "\(path): no obsm entry 'true_map_d5' for data.true_map (obsm has: gmm_d4, true_map_d4)")
        }
        try AnnDataWriter.write(try MapBenchmarkDataset.make(options([4, 6])), to: path)
        XCTAssertThrowsError(try Load.run(path: path, conditionKey: "condition", features: "gmm_d4", transform: .none,
                                          trueMap: "true_map_d6")) { error in
            XCTAssertEqual("\(error)", "\(path): obsm 'true_map_d6' (data.true_map) is 110 × 6, expected 110 × 4 like the features 'gmm_d4'")
        }
    }
}

/// map_mse and l2_uvp against values worked out by hand.
final class MapMetricsTests: XCTestCase {
    func testMapMSEAndL2UVPByHand() throws {
        // Three cells in R²; true images T0 and a prediction.
        let truth = try Matrix<Float>([[1, 0], [0, 2], [3, 1]])
        let predicted = try Matrix<Float>([[1, 1], [0, 0], [4, 1]])
        // ‖·‖²: 1, 4, 1 → mean 2.
        XCTAssertEqual(try Metrics.mapMSE(predicted: predicted, truth: truth), 2, accuracy: 1e-12)
        // Var of the truth, denominator n − 1: x: 1, 0, 3 (mean 4/3) → (1/9 + 16/9 + 25/9)/2 = 7/3;
        // y: 0, 2, 1 (mean 1) → (1 + 1 + 0)/2 = 1; total 10/3.
        XCTAssertEqual(Metrics.totalVariance(truth), 10.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(try Metrics.l2UVP(predicted: predicted, truth: truth), 100 * 2 / (10.0 / 3), accuracy: 1e-4)
        XCTAssertEqual(try Metrics.mapMSE(predicted: truth, truth: truth), 0)
        XCTAssertThrowsError(try Metrics.mapMSE(predicted: Matrix<Float>(rows: 3, cols: 1), truth: truth)) { error in
            XCTAssertEqual("\(error)", "map_mse: the prediction is 3 × 1, the true images 3 × 2")
        }
        XCTAssertThrowsError(try Metrics.l2UVP(predicted: predicted, truth: Matrix<Float>(rows: 3, cols: 2, repeating: 1))) { error in
            XCTAssertEqual("\(error)", "l2_uvp: the true images of the test control cells have no variance")
        }
    }

    /// The identity's map_mse is mean ‖x − T0(x)‖², and the constant map E[T0(x)] has L2-UVP
    /// 100·(n − 1)/n.
    func testIdentityAndConstantMaps() throws {
        let problem = try MapBenchmarkDataset.Problem(dimension: 5, seed: 2)
        var rng = SeededRNG(seed: 3)
        let x = problem.mixture.sample(200, rng: &rng)
        let truth = problem.potential.gradients(x)
        var expected = 0.0
        for i in 0..<x.rows { for j in 0..<5 { expected += pow(Double(Float(x[i, j])) - Double(Float(truth[i, j])), 2) } }
        expected /= 200
        let (xf, tf) = (x.converted(to: Float.self), truth.converted(to: Float.self))
        XCTAssertEqual(try Metrics.mapMSE(predicted: xf, truth: tf), expected, accuracy: 1e-9 * expected)
        let means = tf.converted(to: Double.self).columnMeans()
        let constant = Matrix<Float>(rows: 200, cols: 5) { _, j in Float(means[j]) }
        XCTAssertEqual(try Metrics.l2UVP(predicted: constant, truth: tf), 100 * 199 / 200, accuracy: 1e-3)
    }
}
