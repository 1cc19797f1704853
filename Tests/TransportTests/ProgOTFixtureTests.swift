import Foundation
import LinearAlgebra
import TestSupport
@testable import Transport
import XCTest

/// ProgOT against OTT-JAX 0.6.0's schedules and Sinkhorn with the paper's recursion, and the
/// debiased map against OTT's divergence potentials (scripts/fixtures/progot_worker.py).
final class ProgOTFixtureTests: XCTestCase {
    private struct Fixture {
        let x, y, yEval, query: Matrix<Double>
        let root: [String: Any]

        init() throws {
            let folder = TestPaths.otFixtures
            let data = try Data(contentsOf: folder.appendingPathComponent("progot_fixtures.json"))
            root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
            let files = try XCTUnwrap(root["files"] as? [String: String])
            func cloud(_ key: String) throws -> Matrix<Double> {
                try Matrix(TestPaths.numericCSV(folder.appendingPathComponent(try XCTUnwrap(files[key]))))
            }
            (x, y, yEval, query) = (try cloud("x"), try cloud("y"), try cloud("y_eval"), try cloud("query"))
        }

        func number(_ key: String) throws -> Double {
            try XCTUnwrap((root[key] as? NSNumber)?.doubleValue, key)
        }

        func schedule(_ kind: AlphaSchedule) throws -> [String: Any] {
            try XCTUnwrap((root["schedules"] as? [String: Any])?[kind.rawValue] as? [String: Any])
        }
    }

    private let tight = SinkhornOptions(threshold: 1e-10, maxIterations: 200_000)

    func testAlphaSchedulesMatchOTT() throws {
        let fixture = try Fixture()
        for kind in AlphaSchedule.allCases {
            let reference = try XCTUnwrap(try fixture.schedule(kind)["alphas"] as? [Double])
            let alphas = kind.alphas(steps: reference.count)
            XCTAssertEqual(alphas.count, reference.count)
            for (a, b) in zip(alphas, reference) { XCTAssertEqual(a, b, accuracy: 1e-15, kind.rawValue) }
        }
    }

    func testEpsilonSelectionAndScheduleMatchOTT() throws {
        let fixture = try Fixture()
        let scales = try XCTUnwrap(fixture.root["epsilon_scales"] as? [Double])
        XCTAssertEqual(scales, EpsilonTuning.defaultScales)
        let selection = try EpsilonTuning().select(fitting: fixture.y, evaluation: fixture.yEval, sinkhorn: tight)
        XCTAssertEqual(selection.baseEpsilon, try fixture.number("epsilon_default_yy"), accuracy: 1e-12)
        XCTAssertEqual(selection.scale, try fixture.number("best_scale"))
        let errors = try XCTUnwrap(fixture.root["scale_errors_mse"] as? [Double])
        for (mine, theirs) in zip(selection.errors, errors) { XCTAssertEqual(mine, theirs, accuracy: 1e-7 * theirs) }

        let start = try fixture.number("epsilon_default_xy")
        for kind in AlphaSchedule.allCases {
            let reference = try XCTUnwrap(try fixture.schedule(kind)["epsilons"] as? [Double])
            let schedule = ProgOTEstimator.epsilonSchedule(
                alphas: kind.alphas(steps: reference.count), start: start, end: selection.epsilon)
            for (a, b) in zip(schedule, reference) { XCTAssertEqual(a, b, accuracy: 1e-12 * b, kind.rawValue) }
        }
    }

    func testIteratesAndReplayedPointsMatchOTT() throws {
        let fixture = try Fixture()
        for kind in AlphaSchedule.allCases {
            let values = try fixture.schedule(kind)
            let epsilons = try XCTUnwrap(values["epsilons"] as? [Double])
            let estimator = ProgOTEstimator(steps: epsilons.count, alpha: kind, epsilon: .fixed(epsilons), warmStart: false,
                                            sinkhorn: tight, startThreshold: nil)
            var rng = SeededRNG(seed: 0)
            let fit = try estimator.fitWithTrajectory(source: fixture.x, target: fixture.y, rng: &rng)
            XCTAssertTrue(fit.map.converged)
            let heads = try XCTUnwrap(values["iterates_head"] as? [[[Double]]])
            XCTAssertEqual(fit.iterates.count, heads.count)
            for (iterate, head) in zip(fit.iterates, heads) {
                let mine = iterate.rows(at: Array(0..<head.count))
                XCTAssertLessThan(mine.maxAbsDifference(try Matrix(head)), 1e-7, kind.rawValue)
            }
            let replayed = try fit.map.transport(fixture.query)
            let reference = try Matrix(try XCTUnwrap(values["query_mapped"] as? [[Double]]))
            XCTAssertLessThan(replayed.maxAbsDifference(reference), 1e-7, kind.rawValue)
        }
    }

    func testDebiasedMapMatchesOTTDivergencePotentials() throws {
        let fixture = try Fixture()
        let debiased = try XCTUnwrap(fixture.root["debiased"] as? [String: Any])
        let epsilon = try XCTUnwrap((debiased["epsilon"] as? NSNumber)?.doubleValue)
        var rng = SeededRNG(seed: 0)
        let map = try DebiasedMapEstimator(epsilon: .fixed(epsilon), sinkhorn: tight)
            .fit(source: fixture.x, target: fixture.y, rng: &rng)
        XCTAssertTrue(map.converged)
        let reference = try Matrix(try XCTUnwrap(debiased["query_mapped"] as? [[Double]]))
        XCTAssertLessThan(try map.transport(fixture.query).maxAbsDifference(reference), 1e-7)
    }
}
