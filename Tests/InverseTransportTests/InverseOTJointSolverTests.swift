import Foundation
import LinearAlgebra
import XCTest
@testable import InverseTransport
@testable import Transport

/// The joint (OWL-QN over θ and g) inverse-OT solver against the nested (FISTA + Sinkhorn) one.
final class InverseOTJointSolverTests: XCTestCase {
    func graphProblem(nodes: Int, epsilon: Double, pairs: Int, seed: UInt64) throws -> InverseOTProblem {
        var rng = SeededRNG(seed: seed)
        let (x, y) = try GaussianBilinearPlan(interaction: circularLaplacian(nodes: nodes, delta: 1), epsilon: epsilon)
            .sample(pairs, rng: &rng)
        return try InverseOTProblem(x: x, y: y, epsilon: epsilon)
    }

    /// The value and gradient of Φ(θ, g) = min_f F(θ, f, g) (one semi-dual pass) match central
    /// finite differences in θ and in g, the ℓ1 term left out.
    func testSemiDualGradientMatchesFiniteDifferences() throws {
        let problem = try graphProblem(nodes: 3, epsilon: 1, pairs: 60, seed: 4)
        var objective = try JointObjective(problem, lambda: 0)
        var rng = SeededRNG(seed: 9)
        let z = rng.normalMatrix(rows: 1, cols: 9 + 60, as: Double.self).storage.map { 0.3 * $0 }
        let point = try objective.evaluate(z)
        let h = 1e-5
        for k in [0, 4, 7, 9, 30, 68] {
            var plus = z, minus = z
            plus[k] += h
            minus[k] -= h
            let numeric = (try objective.evaluate(plus).smooth - objective.evaluate(minus).smooth) / (2 * h)
            XCTAssertEqual(point.gradient[k], numeric, accuracy: 1e-7 * Swift.max(1, Swift.abs(numeric)), "coordinate \(k)")
        }
    }

    /// At Sinkhorn's converged g, the pass's f is Sinkhorn's, its columns carry b, and its
    /// moments are the plan moments `BilinearSinkhorn.planMoments` reads at those potentials.
    func testSemiDualPassAtSinkhornPotentialsIsTheSinkhornPlan() throws {
        let problem = try graphProblem(nodes: 4, epsilon: 2, pairs: 300, seed: 2)
        let a = combine(circularLaplacian(nodes: 4, delta: 1), 0.5, .identity(4), 0)
        let solved = try problem.sinkhorn(a, options: SinkhornOptions(epsilon: .auto, threshold: 1e-12, maxIterations: 100_000),
                                          warmStart: nil)
        let (pass, moments) = try problem.semiDualPass(a, g: solved.g)
        for i in [0, 17, 299] { XCTAssertEqual(pass.f[i], solved.f[i], accuracy: 1e-9) }
        XCTAssertLessThan(pass.marginalError, 1e-10)
        let expected = try problem.planMoments(a, potentials: SinkhornPotentials(f: solved.f, g: solved.g))
        XCTAssertLessThan(moments.maxAbsDifference(expected), 1e-10)
    }

    /// Where the nested solver finishes, the joint one finds the same Â to 1e-4, with the ℓ1
    /// penalty at ε = 1 (the hard regime) and ε = 10, and without a penalty; and it needs far
    /// fewer passes over the plan.
    func testJointMatchesNestedOnSmallGraphs() throws {
        for (epsilon, penalty, lambda) in [(1.0, InverseOTPenalty.l1, 0.08), (10.0, .l1, 0.05), (10.0, .none, 0.0)] {
            let problem = try graphProblem(nodes: 6, epsilon: epsilon, pairs: 150, seed: 7)
            var options = InverseOTOptions(penalty: penalty, lambda: lambda)
            options.solver = .nested
            let nested = try InverseOTEstimator.fit(problem, options: options)
            options.solver = .joint
            let joint = try InverseOTEstimator.fit(problem, options: options)
            XCTAssertTrue(nested.converged && joint.converged, "ε \(epsilon) \(penalty)")
            XCTAssertEqual(nested.solver, .nested)
            XCTAssertEqual(joint.solver, .joint)
            XCTAssertEqual(joint.sinkhornIterations, 0)
            XCTAssertLessThanOrEqual(joint.marginalError, options.sinkhorn.threshold)
            XCTAssertLessThan(joint.interaction.maxAbsDifference(nested.interaction), 1e-4, "ε \(epsilon) \(penalty)")
            XCTAssertEqual(joint.support, nested.support, "ε \(epsilon) \(penalty)")
            XCTAssertEqual(joint.objective, nested.objective, accuracy: 1e-8 * Swift.max(1, Swift.abs(nested.objective)))
            XCTAssertLessThan(joint.planPasses * 5, nested.planPasses, "ε \(epsilon) \(penalty): \(joint.planPasses) vs \(nested.planPasses)")
        }
    }

    /// The basis family (dense C_θ) reaches the nested solver's θ̂ too.
    func testJointMatchesNestedForABasis() throws {
        var rng = SeededRNG(seed: 13)
        let x = rng.normalMatrix(rows: 120, cols: 2, as: Double.self)
        let y = combine(x, 0.8, rng.normalMatrix(rows: 120, cols: 2, as: Double.self), 0.6)
        let problem = try InverseOTBasisProblem(x: x, y: y, basis: [.squaredEuclidean, .pNorm(1.5)], epsilon: 0.5)
        var options = InverseOTOptions(penalty: .l1, lambda: 0.02)
        options.solver = .nested
        let nested = try InverseOTEstimator.fit(problem, options: options)
        options.solver = .joint
        let joint = try InverseOTEstimator.fit(problem, options: options)
        XCTAssertTrue(nested.converged && joint.converged)
        XCTAssertLessThan(joint.interaction.maxAbsDifference(nested.interaction), 1e-4,
                          "joint \(joint.interaction.storage), nested \(nested.interaction.storage)")
    }

    /// A fit stopped by its step cap says so; the joint solver refuses the nuclear norm, and
    /// `auto` gives the nuclear norm to the nested solver.
    func testCapIsReportedAndNuclearGoesNested() throws {
        let problem = try graphProblem(nodes: 5, epsilon: 1, pairs: 100, seed: 3)
        let capped = try InverseOTEstimator.fit(problem, options: InverseOTOptions(penalty: .l1, lambda: 0.05, maxIterations: 3,
                                                                                     solver: .joint))
        XCTAssertFalse(capped.converged)
        XCTAssertEqual(capped.outerIterations, 3)
        XCTAssertThrowsError(try InverseOTEstimator.fit(problem, options: InverseOTOptions(penalty: .nuclear, lambda: 0.05,
                                                                                           solver: .joint)))
        let nuclear = try InverseOTEstimator.fit(problem, options: InverseOTOptions(penalty: .nuclear, lambda: 0.05, maxIterations: 2))
        XCTAssertEqual(nuclear.solver, .nested)
        XCTAssertEqual(InverseOTSolver.automatic.resolved(for: .l1), .joint)
    }
}
