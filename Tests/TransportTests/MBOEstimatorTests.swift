import LinearAlgebra
import Transport
import XCTest

/// The MBO map (Cuturi, Klein & Ablin 2023) on a translation that moves 5 of 30 coordinates:
/// the elastic L1 cost shrinks the displacement of the other 25 to 0, where the
/// squared-Euclidean entropic map moves every coordinate.
final class MBOEstimatorTests: XCTestCase {
    private let shift = [2, -2, 1.5, -1.5, 2.5] + Array(repeating: 0.0, count: 25)

    private func cloud(_ n: Int, _ rng: inout SeededRNG, shifted: Bool) -> Matrix<Double> {
        Matrix(rows: n, cols: shift.count) { _, k in rng.normal() + (shifted ? shift[k] : 0) }
    }

    /// Mean number of coordinates moved by more than 0.1, and the mean squared error against x + shift.
    private func score(_ map: any TransportMap<Double>, _ query: Matrix<Double>) throws -> (moved: Double, mse: Double) {
        let mapped = try map.transport(query)
        var moved = 0, error = 0.0
        for i in 0..<query.rows {
            for k in 0..<query.cols {
                let displacement = mapped[i, k] - query[i, k]
                if abs(displacement) > 0.1 { moved += 1 }
                error += (displacement - shift[k]) * (displacement - shift[k])
            }
        }
        return (Double(moved) / Double(query.rows), error / Double(query.rows))
    }

    func testSparseTranslationMovesFewCoordinates() throws {
        var rng = SeededRNG(seed: 0)
        let x = cloud(500, &rng, shifted: false), y = cloud(500, &rng, shifted: true), query = cloud(200, &rng, shifted: false)
        var fitRNG = SeededRNG(seed: 1)
        let mbo = try score(MBOEstimator(penalty: .l1, lambda: 5).fit(source: x, target: y, rng: &fitRNG), query)
        fitRNG = SeededRNG(seed: 1)
        let eot = try score(EntropicMapEstimator().fit(source: x, target: y, rng: &fitRNG), query)
        XCTAssertGreaterThan(eot.moved, 20, "eot moves most coordinates")
        XCTAssertLessThan(mbo.moved, 9, "mbo moves about the 5 true coordinates")
        XCTAssertGreaterThan(mbo.moved, 3)
        XCTAssertLessThanOrEqual(mbo.mse, eot.mse, "mbo \(mbo), eot \(eot)")
    }

    /// λ = 0 is the entropic map of ½‖·‖², i.e. eot's map at twice the ε.
    func testZeroLambdaIsTheSquaredEuclideanMap() throws {
        var rng = SeededRNG(seed: 3)
        let x = Matrix<Double>(rows: 40, cols: 3) { _, _ in rng.normal() }
        let y = Matrix<Double>(rows: 30, cols: 3) { _, k in 0.5 * rng.normal() + Double(k) }
        var fitRNG = SeededRNG(seed: 0)
        let options = SinkhornOptions(threshold: 1e-10, maxIterations: 100_000)
        let elastic = try MBOEstimator(penalty: .l1, lambda: 0, epsilon: .choice(.fixed(0.2)), sinkhorn: options)
            .fit(source: x, target: y, rng: &fitRNG).transport(x)
        let squared = try EntropicMapEstimator(epsilon: .choice(.fixed(0.4)), sinkhorn: options)
            .fit(source: x, target: y, rng: &fitRNG).transport(x)
        for i in 0..<x.rows {
            for k in 0..<x.cols { XCTAssertEqual(elastic[i, k], squared[i, k], accuracy: 1e-7) }
        }
    }
}
