import Foundation
import LinearAlgebra
import NeuralTransport
import Transport
import XCTest

/// The displacement-sparse ICNN: penalty derivatives, the sliced W₂ used as Err, the Metropolis
/// rule of the λ annealing, and a task where only 5 of 50 coordinates move.
final class SparseICNNTests: XCTestCase {
    func testPenaltyDerivativesMatchFiniteDifferences() {
        let penalties: [DisplacementPenalty] = [.l1, .smoothedL0(sigma: 0.7), .stvs(gamma: 0.3)]
        for penalty in penalties {
            for d in [-2.5, -0.4, -0.01, 0.03, 0.5, 3.0] {
                let h = 1e-6
                let numeric = (penalty.value(d + h) - penalty.value(d - h)) / (2 * h)
                XCTAssertEqual(penalty.derivative(d), numeric, accuracy: 1e-7 * max(1, abs(numeric)), "\(penalty.name) at \(d)")
            }
            XCTAssertEqual(penalty.value(0), 0, accuracy: 1e-15, penalty.name)
        }
        // The smoothed ℓ0 counts coordinates that move by much more than σ, and ignores tiny ones.
        let rows = try! Matrix<Double>([[5, 0.001, -4, 0], [0, 0, 0, 6]])
        XCTAssertEqual(DisplacementPenalty.smoothedL0(sigma: 0.1).meanValue(rows), 1.5, accuracy: 1e-3)
        // STVS grows like γ²·log|d| far out, i.e. with a vanishing slope γ²/|d|.
        XCTAssertEqual(DisplacementPenalty.stvs(gamma: 0.3).derivative(300), 0.09 / 300, accuracy: 1e-6)
    }

    func testSlicedWassersteinOfATranslationIsTheMeanProjectedShift() {
        var rng = SeededRNG(seed: 11)
        let x: Matrix<Double> = rng.normalMatrix(rows: 200, cols: 4)
        let shift = [1.0, -2.0, 0.5, 0.0]
        let moved = Matrix<Double>(rows: 200, cols: 4) { i, j in x[i, j] + shift[j] }
        let sliced = SlicedWasserstein<Double>(dimension: 4, projections: 50, rng: &rng)
        // Translating a cloud by v translates every projection by ⟨θ, v⟩: W₂² = ⟨θ, v⟩².
        let squaredShifts: [Double] = (0..<50).map { k in
            let projection = (0..<4).reduce(0.0) { $0 + sliced.directions[$1, k] * shift[$1] }
            return projection * projection
        }
        let expected = squaredShifts.reduce(0, +) / 50
        XCTAssertEqual(sliced.distance(x, moved), expected.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(sliced.distance(x, x), 0, accuracy: 1e-15)
    }

    func testAnnealingAcceptsAndRejectsByTheMetropolisRule() {
        let annealing = LambdaAnnealing()
        XCTAssertEqual(annealing.temperatures.count, 37)  // 0.95³⁶ ≥ 0.15 > 0.95³⁷
        // Eval is lowest at λ = 0.2; training is scripted, so only the rule decides.
        func eval(_ lambda: Double) -> Double { pow(log(lambda / 0.2), 2) }
        var rng = SeededRNG(seed: 99)
        var reverts: [Double] = []
        let result = annealing.run(from: 1, eval: eval(1), rng: &rng, trial: eval) { lambda in
            reverts.append(lambda)
            return eval(lambda)
        }
        // Replaying the same stream: a proposal uniform, then a Metropolis uniform, per step.
        var replay = SeededRNG(seed: 99)
        var current = 1.0
        var uphillAccepted = 0, rejected = 0
        for step in result.steps {
            let proposed = LambdaAnnealing.proposal(from: current, temperature: step.temperature, uniform: replay.uniform())
            XCTAssertEqual(step.proposedLambda, proposed, accuracy: 1e-15)
            let uniform = replay.uniform()
            XCTAssertEqual(step.uniform, uniform)
            let change = eval(proposed) - eval(current)
            XCTAssertEqual(step.accepted, change <= 0 || uniform < exp(-change / step.temperature))
            if step.accepted {
                if change > 0 { uphillAccepted += 1 }
                current = proposed
            } else {
                rejected += 1
            }
        }
        XCTAssertEqual(result.lambda, current)
        XCTAssertEqual(reverts.count, rejected)
        XCTAssertGreaterThan(uphillAccepted, 0, "a hot schedule should take some uphill steps")
        XCTAssertGreaterThan(rejected, 0)
        XCTAssertLessThan(eval(result.lambda), eval(1))
        XCTAssertTrue(LambdaAnnealing.accepts(change: -1, temperature: 0.2, uniform: 0.999))
        XCTAssertTrue(LambdaAnnealing.accepts(change: 0.1, temperature: 1, uniform: exp(-0.1) - 1e-9))
        XCTAssertFalse(LambdaAnnealing.accepts(change: 0.1, temperature: 1, uniform: exp(-0.1) + 1e-9))
    }

    /// x ~ N(0, I₅₀); y the same law with coordinates 0…4 shifted by 3: the OT map moves only
    /// those five.
    private struct ShiftTask {
        let source: Matrix<Float>
        let target: Matrix<Float>
        let query: Matrix<Float>

        init(rng: inout SeededRNG) {
            source = rng.normalMatrix(rows: 2000, cols: 50)
            target = Matrix(rows: 2000, cols: 50) { _, j in Float(rng.normal()) + (j < 5 ? 3 : 0) }
            query = rng.normalMatrix(rows: 500, cols: 50)
        }

        /// Mean number of coordinates with |T(x) − x|ᵢ > 0.25 on the query points.
        func movedDimensions(_ map: any TransportMap<Float>) throws -> Double {
            let moved = try map.transport(query) - query
            return Double(moved.storage.filter { abs($0) > 0.25 }.count) / Double(query.rows)
        }
    }

    private var training: ICNNOTEstimator {
        var settings = ICNNOTEstimator()
        settings.hiddenUnits = [64, 64]
        settings.batchSize = 128
        settings.innerIterations = 5
        settings.learningRate = 3e-3
        return settings
    }

    /// Both λ searches against plain ICNN-OT with a similar training budget (500 outer
    /// iterations), moved coordinates counted on fresh points at |Δᵢ| > 0.25.
    func testSparseICNNMovesOnlyTheShiftedCoordinates() throws {
        var rng = SeededRNG(seed: 3)
        let task = ShiftTask(rng: &rng)
        var icnn = training
        icnn.iterations = 500
        let icnnMoved = try task.movedDimensions(try icnn.fit(source: task.source, target: task.target, rng: &rng))

        var sparse = SparseICNNEstimator()
        sparse.training = training
        sparse.penalty = .smoothedL0(sigma: 0.25)
        sparse.initialLambda = 2
        sparse.initIterations = 400
        sparse.adjustIterations = 20
        sparse.smoothIterations = 10
        sparse.annealing.decay = 0.7
        sparse.movedTolerance = 0.25
        sparse.mode = .dimensionThreshold(7)
        let constrained = try XCTUnwrap(try sparse.fit(source: task.source, target: task.target, rng: &rng) as? SparseICNNMap<Float>)
        sparse.mode = .annealing
        sparse.initIterations = 300
        sparse.annealing.decay = 0.8
        let annealed = try XCTUnwrap(try sparse.fit(source: task.source, target: task.target, rng: &rng) as? SparseICNNMap<Float>)
        let constrainedMoved = try task.movedDimensions(constrained), annealedMoved = try task.movedDimensions(annealed)
        print("5 of 50 coordinates shifted, moved per point: ICNN \(icnnMoved); sparse ICNN with l = 7 \(constrainedMoved) (λ \(constrained.finalLambda), Err \(constrained.error)); annealed λ \(annealedMoved) (λ \(annealed.finalLambda), Err \(annealed.error))")

        XCTAssertGreaterThan(icnnMoved, 20)
        XCTAssertLessThanOrEqual(constrainedMoved, 10)
        XCTAssertLessThan(annealedMoved, 0.7 * icnnMoved)
        for map in [constrained, annealed] {
            XCTAssertEqual(Set(map.mostMovedCoordinates(5)), Set(0..<5))
            XCTAssertTrue(map.converged)
            // The map still reaches the target where it should: the shifted coordinates' mean.
            let mapped = try map.transport(task.query)
            let shiftedMean = (0..<mapped.rows).reduce(0.0) { total, i in total + (0..<5).reduce(0.0) { $0 + Double(mapped[i, $1]) } } / Double(5 * mapped.rows)
            XCTAssertEqual(shiftedMean, 3, accuracy: 0.5)
        }
        XCTAssertLessThanOrEqual(constrained.meanMovedDimensions, 7)
        XCTAssertFalse(constrained.annealingSteps.isEmpty)
        // Both maps go through the pipeline cache as JSON.
        for map in [constrained, annealed] {
            XCTAssertEqual(try JSONDecoder().decode(SparseICNNMap<Float>.self, from: JSONEncoder().encode(map)), map)
        }
        XCTAssertEqual(annealed.annealingSteps.count, sparse.annealing.temperatures.count)
    }

    func testDimensionThresholdModeReportsAnUnmetConstraint() throws {
        var rng = SeededRNG(seed: 4)
        let task = ShiftTask(rng: &rng)
        var sparse = SparseICNNEstimator()
        sparse.training = training
        sparse.initIterations = 20
        sparse.adjustIterations = 5
        sparse.smoothIterations = 5
        sparse.annealing.decay = 0.5
        sparse.maximumRaises = 2
        sparse.mode = .dimensionThreshold(0)  // nothing may move: not reachable while fitting y
        let map = try XCTUnwrap(try sparse.fit(source: task.source, target: task.target, rng: &rng) as? SparseICNNMap<Float>)
        XCTAssertFalse(map.constraintMet)
        XCTAssertFalse(map.converged)
        XCTAssertEqual(map.dimensionThreshold, 0)
        XCTAssertEqual(map.finalLambda, 5e-4 * 1.5 * 1.5, accuracy: 1e-12)
        let decoded = try JSONDecoder().decode(SparseICNNMap<Float>.self, from: JSONEncoder().encode(map))
        XCTAssertEqual(decoded, map)
    }

    func testInvalidSettingsAreRejected() {
        var rng = SeededRNG(seed: 5)
        let task = ShiftTask(rng: &rng)
        var sparse = SparseICNNEstimator()
        sparse.penalty = .stvs(gamma: 0)
        XCTAssertThrowsError(try sparse.fit(source: task.source, target: task.target, rng: &rng)) { error in
            XCTAssertTrue("\(error)".contains("stvs"), "\(error)")
        }
        sparse = SparseICNNEstimator()
        sparse.initialLambda = -1
        XCTAssertThrowsError(try sparse.fit(source: task.source, target: task.target, rng: &rng))
    }
}
