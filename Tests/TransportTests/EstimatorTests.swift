import Foundation
import LinearAlgebra
import Transport
import XCTest

/// Behaviour of the map estimators beyond their reference values: replayability, Codable
/// round trips, seeding, convergence reporting and parameter errors.
final class EstimatorTests: XCTestCase {
    private func clouds(seed: UInt64, n: Int = 120, m: Int = 100, d: Int = 3) -> (Matrix<Double>, Matrix<Double>) {
        var rng = SeededRNG(seed: seed)
        let x: Matrix<Double> = rng.normalMatrix(rows: n, cols: d)
        let y = Matrix<Double>(rows: m, cols: d) { _, j in 0.6 * rng.normal() + Double(j) - 1 }
        return (x, y)
    }

    func testProgOTReplayOfTheTrainingPointsReproducesTheFittedTrajectory() throws {
        let (x, y) = clouds(seed: 1)
        for debiased in [false, true] {
            var rng = SeededRNG(seed: 2)
            let fit = try ProgOTEstimator(steps: 6, alpha: .quad, debiased: debiased)
                .fitWithTrajectory(source: x, target: y, rng: &rng)
            let replay = try fit.map.trajectory(x)
            XCTAssertEqual(replay.count, 6)
            for (fitted, replayed) in zip(fit.iterates, replay) {
                XCTAssertEqual(fitted.storage, replayed.storage, "debiased: \(debiased)")
            }
            XCTAssertEqual(try fit.map.transport(x).storage, fit.iterates.last?.storage)
        }
    }

    func testLinearScheduleEndsOnTheLastStepsEntropicMap() throws {
        // α_K = 1, so the last iterate is exactly the K-th entropic map of x_{K−1}.
        let (x, y) = clouds(seed: 3)
        var rng = SeededRNG(seed: 4)
        let fit = try ProgOTEstimator(steps: 3, alpha: .lin).fitWithTrajectory(source: x, target: y, rng: &rng)
        let last = try XCTUnwrap(fit.map.steps.last)
        let map = EntropicMap(target: y, g: last.g, epsilon: last.epsilon)
        XCTAssertLessThan(try map.transport(fit.iterates[1]).maxAbsDifference(fit.iterates[2]), 1e-12)
    }

    func testFittedMapsSurviveACodableRoundTrip() throws {
        let (x, y) = clouds(seed: 5)
        let query = clouds(seed: 6, n: 7).0
        let estimators: [any MapEstimator] = [
            IdentityEstimator(), MeanShiftEstimator(), EntropicMapEstimator(),
            EntropicMapEstimator(epsilon: .choice(.auto)), DebiasedMapEstimator(),
            ProgOTEstimator(steps: 4, debiased: true),
        ]
        for estimator in estimators {
            var rng = SeededRNG(seed: 7)
            let map = try estimator.fit(source: x, target: y, rng: &rng)
            let decoded: any TransportMap<Double> = try roundTrip(map)
            XCTAssertEqual(try decoded.transport(query).storage, try map.transport(query).storage, "\(estimator)")
        }
    }

    private func roundTrip<Map: TransportMap>(_ map: Map) throws -> Map {
        try JSONDecoder().decode(Map.self, from: JSONEncoder().encode(map))
    }

    func testSameSeedSameMapAndTheSeedMattersForTuning() throws {
        let (x, y) = clouds(seed: 8)
        func fit(_ seed: UInt64) throws -> ProgOTMap<Double> {
            var rng = SeededRNG(seed: seed)
            return try ProgOTEstimator(steps: 3).fitWithTrajectory(source: x, target: y, rng: &rng).map
        }
        XCTAssertEqual(try fit(1), try fit(1))
        let scores = try (1...6).map { try XCTUnwrap(fit($0).epsilonSelection?.errors) }
        XCTAssertGreaterThan(Set(scores).count, 1, "different held-out splits score differently")
    }

    func testFloatEstimatorsTrackDouble() throws {
        let (x, y) = clouds(seed: 9)
        var rngDouble = SeededRNG(seed: 10), rngFloat = SeededRNG(seed: 10)
        let estimator = ProgOTEstimator(steps: 4)
        let double = try estimator.fit(source: x, target: y, rng: &rngDouble).transport(x)
        let float = try estimator.fit(source: x.converted(to: Float.self), target: y.converted(to: Float.self),
                                      rng: &rngFloat).transport(x.converted(to: Float.self))
        XCTAssertLessThan(float.converted(to: Double.self).maxAbsDifference(double), 1e-3)
    }

    func testWarmStartReachesTheSameMapInFewerIterations() throws {
        let (x, y) = clouds(seed: 11)
        let sinkhorn = SinkhornOptions(threshold: 1e-9, maxIterations: 100_000)
        var rngCold = SeededRNG(seed: 12), rngWarm = SeededRNG(seed: 12)
        let cold = try ProgOTEstimator(steps: 5, warmStart: false, sinkhorn: sinkhorn, startThreshold: nil)
            .fitWithTrajectory(source: x, target: y, rng: &rngCold)
        let warm = try ProgOTEstimator(steps: 5, warmStart: true, sinkhorn: sinkhorn, startThreshold: nil)
            .fitWithTrajectory(source: x, target: y, rng: &rngWarm)
        XCTAssertLessThan(try XCTUnwrap(warm.iterates.last).maxAbsDifference(try XCTUnwrap(cold.iterates.last)), 1e-6)
        let coldIterations = cold.map.steps.dropFirst().reduce(0) { $0 + $1.iterations }
        let warmIterations = warm.map.steps.dropFirst().reduce(0) { $0 + $1.iterations }
        XCTAssertLessThan(warmIterations, coldIterations)
    }

    func testThresholdScheduleLoosensOnlyTheEarlySteps() throws {
        XCTAssertEqual(ProgOTEstimator.thresholdSchedule(steps: 3, start: nil, end: 1e-3), [1e-3, 1e-3, 1e-3])
        XCTAssertEqual(ProgOTEstimator.thresholdSchedule(steps: 1, start: 1e-1, end: 1e-3), [1e-3])
        let schedule = ProgOTEstimator.thresholdSchedule(steps: 3, start: 1e-1, end: 1e-3)
        for (value, expected) in zip(schedule, [1e-1, 1e-2, 1e-3]) { XCTAssertEqual(value, expected, accuracy: 1e-15) }

        // Early steps stop at their looser threshold, the last at the given one, and each step
        // records the threshold it used.
        let (x, y) = clouds(seed: 13)
        var rngTight = SeededRNG(seed: 14), rngLoose = SeededRNG(seed: 14)
        let sinkhorn = SinkhornOptions(threshold: 1e-6, maxIterations: 100_000)
        let tight = try ProgOTEstimator(steps: 4, warmStart: false, sinkhorn: sinkhorn, startThreshold: nil)
            .fitWithTrajectory(source: x, target: y, rng: &rngTight)
        let loose = try ProgOTEstimator(steps: 4, warmStart: false, sinkhorn: sinkhorn, startThreshold: 1e-2)
            .fitWithTrajectory(source: x, target: y, rng: &rngLoose)
        XCTAssertEqual(loose.map.steps.map(\.threshold), ProgOTEstimator.thresholdSchedule(steps: 4, start: 1e-2, end: 1e-6))
        XCTAssertTrue(zip(loose.map.steps, loose.map.steps.map(\.threshold)).allSatisfy { step, threshold in
            (step.marginalError ?? .infinity) < threshold
        })
        XCTAssertLessThan(loose.map.steps.dropLast().reduce(0) { $0 + $1.iterations },
                          tight.map.steps.dropLast().reduce(0) { $0 + $1.iterations })
        XCTAssertThrowsError(try ProgOTEstimator(startThreshold: -1).fit(source: x, target: y, rng: &rngTight))
    }

    func testNonConvergenceIsReported() throws {
        let (x, y) = clouds(seed: 13)
        let starved = SinkhornOptions(epsilon: .auto, threshold: 1e-12, maxIterations: 2)
        var rng = SeededRNG(seed: 14)
        XCTAssertFalse(try EntropicMapEstimator(epsilon: .choice(.fixed(0.05)), sinkhorn: starved)
            .fit(source: x, target: y, rng: &rng).converged)
        XCTAssertFalse(try ProgOTEstimator(steps: 2, sinkhorn: starved).fit(source: x, target: y, rng: &rng).converged)
        XCTAssertFalse(try DebiasedMapEstimator(sinkhorn: starved).fit(source: x, target: y, rng: &rng).converged)
        XCTAssertTrue(try EntropicMapEstimator(epsilon: .choice(.auto)).fit(source: x, target: y, rng: &rng).converged)
    }

    func testBadParametersAreRejectedWithAMessage() throws {
        let (x, y) = clouds(seed: 15)
        var rng = SeededRNG(seed: 16)
        func message(_ estimator: some MapEstimator, target: Matrix<Double>? = nil) -> String {
            do {
                _ = try estimator.fit(source: x, target: target ?? y, rng: &rng)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(message(ProgOTEstimator(steps: 0)), "ProgOT needs at least 1 step, got 0")
        XCTAssertEqual(message(ProgOTEstimator(steps: 3, epsilon: .fixed([1, 2]))),
                       "ProgOT needs 3 positive epsilons (one per step), got 2")
        XCTAssertEqual(message(EntropicMapEstimator(epsilon: .tuned(EpsilonTuning(heldOutFraction: 1.5)))),
                       "held-out fraction must be strictly between 0 and 1, got 1.5")
        XCTAssertEqual(message(EntropicMapEstimator(epsilon: .tuned(EpsilonTuning(scales: [1, -2])))),
                       "epsilon scales must be a non-empty list of positive numbers")
        XCTAssertEqual(message(EntropicMapEstimator(), target: y.rows(at: [0, 1])),
                       "tuning epsilon needs at least 1 held-out and 2 fitting target points; the target has 2")
        XCTAssertEqual(message(MeanShiftEstimator(), target: Matrix(rows: 3, cols: 2)),
                       "source points have 3 coordinates but target points have 2")
    }
}
