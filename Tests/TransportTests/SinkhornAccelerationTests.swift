import Foundation
import LinearAlgebra
@testable import Transport
import XCTest

/// Momentum, ε-scaling and Anderson acceleration reach plain Sinkhorn's solution at a small ε
/// in fewer iterations; bad settings are refused.
final class SinkhornAccelerationTests: XCTestCase {
    private func clouds() -> (Matrix<Double>, Matrix<Double>) {
        var rng = SeededRNG(seed: 21)
        let x: Matrix<Double> = rng.normalMatrix(rows: 150, cols: 4)
        let y = Matrix<Double>(rows: 130, cols: 4) { _, j in 1.3 * rng.normal() + (j == 0 ? 0.5 : 0) }
        return (x, y)
    }

    func testEveryAcceleratorReachesThePlainSolutionInFewerIterations() throws {
        let (x, y) = clouds()
        // ε ≈ 0.0065 × std(C): plain Sinkhorn needs hundreds of iterations here.
        var options = SinkhornOptions(epsilon: .fixed(0.05), threshold: 1e-6, maxIterations: 20_000)
        let plain = try Sinkhorn.solve(source: x, target: y, options: options)
        XCTAssertTrue(plain.converged)
        XCTAssertGreaterThan(plain.iterations, 200)
        let accelerated: [(String, (inout SinkhornOptions) -> Void)] = [
            ("momentum 1.5", { $0.momentum = .fixed(1.5) }),
            ("adaptive momentum", { $0.momentum = .adaptive(start: 20) }),
            ("ε-scaling", { $0.epsilonScaling = SinkhornEpsilonScaling(initialMultiplier: 20, decay: 0.8) }),
            ("Anderson 5", { $0.anderson = SinkhornAnderson(memory: 5) }),
        ]
        for (name, configure) in accelerated {
            var faster = options
            configure(&faster)
            let result = try Sinkhorn.solve(source: x, target: y, options: faster)
            XCTAssertTrue(result.converged, name)
            XCTAssertLessThan(result.marginalError, 1e-6, name)
            XCTAssertLessThan(result.iterations, plain.iterations, name)
            XCTAssertEqual(result.epsilon, 0.05, name)
            // Same problem, same threshold: the same optimum to about the threshold (the potentials
            // are defined up to a constant, the objective is not).
            XCTAssertEqual(result.regOTCost, plain.regOTCost, accuracy: 1e-5 * abs(plain.regOTCost), name)
        }
        options.momentum = .fixed(1)
        XCTAssertEqual(try Sinkhorn.solve(source: x, target: y, options: options), plain, "ω = 1 is plain Sinkhorn")
    }

    func testEpsilonScalingStopsOnlyAtTheTargetEpsilon() throws {
        let (x, y) = clouds()
        var options = SinkhornOptions(epsilon: .fixed(0.5), threshold: 0.5, maxIterations: 1000)
        options.epsilonScaling = SinkhornEpsilonScaling(initialMultiplier: 100, decay: 0.5)
        // ε_t = 0.5·max(100·0.5ᵗ, 1) reaches the target at t = 7 (the 8th iteration); a loose
        // threshold would be met long before.
        let result = try Sinkhorn.solve(source: x, target: y, options: options)
        XCTAssertTrue(result.converged)
        XCTAssertEqual(result.iterations, 8)
        XCTAssertEqual(SinkhornEpsilonScaling(initialMultiplier: 100, decay: 0.5).epsilon(at: 6, target: 0.5), 0.78125)
    }

    func testBadSettingsAreRefused() {
        let (x, y) = clouds()
        let bad: [(inout SinkhornOptions) -> Void] = [
            { $0.momentum = .fixed(2) }, { $0.momentum = .fixed(0) }, { $0.momentum = .adaptive(start: 2) },
            { $0.epsilonScaling = SinkhornEpsilonScaling(initialMultiplier: 0.5, decay: 0.9) },
            { $0.epsilonScaling = SinkhornEpsilonScaling(initialMultiplier: 10, decay: 1) },
            { $0.anderson = SinkhornAnderson(memory: 0) }, { $0.anderson = SinkhornAnderson(memory: 3, ridge: 0) },
        ]
        for configure in bad {
            var options = SinkhornOptions(epsilon: .fixed(0.5))
            configure(&options)
            XCTAssertThrowsError(try Sinkhorn.solve(source: x, target: y, options: options)) { error in
                guard case .invalidParameter = error as? TransportError else { return XCTFail("\(error)") }
            }
        }
    }

    func testAndersonWeightsSolveTheirSmallSystem() throws {
        let matrix = [[4.0, 1, 0.5], [1, 3, 0.25], [0.5, 0.25, 2]]
        let solution = try XCTUnwrap(AndersonHistory<Double>.solve(matrix, [1, 2, 3]))
        for row in 0..<3 {
            let value = (0..<3).reduce(0.0) { $0 + matrix[row][$1] * solution[$1] }
            XCTAssertEqual(value, Double(row + 1), accuracy: 1e-12)
        }
        XCTAssertNil(AndersonHistory<Double>.solve([[0, 0], [0, 0]], [1, 1]))
    }
}
