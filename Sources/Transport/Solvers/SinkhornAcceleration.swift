import Foundation
import LinearAlgebra

/// Momentum (over-relaxation) of the Sinkhorn updates, as OTT-JAX's `acceleration.Momentum`:
/// each new potential is (1 − ω)·old + ω·update, for both f and g.
public enum SinkhornMomentum: Sendable, Codable, Equatable {
    /// A constant ω in (0, 2) (Thibault et al. 2021); 1 is plain Sinkhorn.
    case fixed(Double)
    /// ω = 1 until iteration `start`, then ω = 2/(1 + √(1 − r)) kept from then on (Lehmann et
    /// al. 2021, eq. 5), with r = min(ρ, 0.99) and ρ the per-iteration contraction of the
    /// column-marginal error measured over the (up to) 10 iterations before `start`:
    /// ρ = (e_{s−1}/e_{s−1−w})^{1/w}. OTT-JAX takes the same ratio between its error checks,
    /// `inner_iterations` (10) apart, to the power 1/inner_iterations.
    case adaptive(start: Int)

    /// Itself, or `TransportError.invalidParameter` saying what is out of range.
    public func validated() throws -> SinkhornMomentum {
        switch self {
        case .fixed(let omega):
            guard omega > 0, omega < 2, omega.isFinite else {
                throw TransportError.invalidParameter("Sinkhorn momentum must be in (0, 2), got \(omega)")
            }
        case .adaptive(let start):
            guard start >= 3 else {
                throw TransportError.invalidParameter("adaptive Sinkhorn momentum needs start ≥ 3 (two errors before it), got \(start)")
            }
        }
        return self
    }

    /// ω for iteration `t` (1-based), given the column-marginal errors of iterations 1 … t − 1;
    /// `adaptiveWeight` holds the adaptive weight once computed.
    func weight(at t: Int, errors: [Double], adaptiveWeight: inout Double?) -> Double {
        switch self {
        case .fixed(let omega):
            return omega
        case .adaptive(let start):
            guard t >= start else { return 1 }
            if let adaptiveWeight { return adaptiveWeight }
            let last = errors.count - 1
            let window = Swift.min(10, last)
            var omega = 1.0
            if window >= 1, errors[last] > 0, errors[last - window] > 0 {
                let contraction = Foundation.pow(errors[last] / errors[last - window], 1 / Double(window))
                let r = Swift.min(contraction, 0.99)
                if r.isFinite, r >= 0 { omega = 2 / (1 + (1 - r).squareRoot()) }
            }
            adaptiveWeight = omega
            return omega
        }
    }
}

/// ε-scaling (annealing) as OTT-JAX's `Epsilon(target, init, decay)`: iteration t (from 0) runs
/// at ε_t = ε · max(initialMultiplier · decayᵗ, 1), reaching the target ε and staying there.
/// The convergence test is only trusted once ε_t is the target (OTT-JAX tests at every ε; an
/// early stop there would return potentials of a larger ε).
public struct SinkhornEpsilonScaling: Sendable, Codable, Equatable {
    public var initialMultiplier: Double
    public var decay: Double

    public init(initialMultiplier: Double, decay: Double) {
        self.initialMultiplier = initialMultiplier
        self.decay = decay
    }

    /// Itself, or `TransportError.invalidParameter` saying what is out of range.
    public func validated() throws -> SinkhornEpsilonScaling {
        guard initialMultiplier >= 1, initialMultiplier.isFinite, decay > 0, decay < 1 else {
            throw TransportError.invalidParameter(
                "ε-scaling needs an initial multiplier ≥ 1 and a decay in (0, 1), got \(initialMultiplier) and \(decay)")
        }
        return self
    }

    /// The ε of iteration `t` (0-based) for target ε.
    func epsilon(at t: Int, target: Double) -> Double {
        target * Swift.max(initialMultiplier * Foundation.pow(decay, Double(t)), 1)
    }
}

/// Anderson acceleration of the Sinkhorn fixed point g ↦ g′ (one f-then-g update), as OTT-JAX's
/// `AndersonAcceleration` does on its f: every `refreshEvery` iterations once `memory` of them
/// have run, the potential entering the iteration is replaced by the combination Σ_k w_k g′_k
/// of the last `memory` outputs, with w ∝ (RᵀR/‖RᵀR‖_F + ridge·I)⁻¹·1 and R the residuals
/// g′_k − g_k (columns), Σ w = 1. The small system is solved directly (OTT-JAX: conjugate
/// gradients on the same system).
public struct SinkhornAnderson: Sendable, Codable, Equatable {
    public var memory: Int
    public var refreshEvery: Int
    public var ridge: Double

    /// OTT-JAX's defaults: memory 2, refresh every iteration, ridge 1e-2.
    public init(memory: Int = 2, refreshEvery: Int = 1, ridge: Double = 1e-2) {
        self.memory = memory
        self.refreshEvery = refreshEvery
        self.ridge = ridge
    }

    /// Itself, or `TransportError.invalidParameter` saying what is out of range.
    public func validated() throws -> SinkhornAnderson {
        guard memory >= 1, refreshEvery >= 1, ridge > 0, ridge.isFinite else {
            throw TransportError.invalidParameter(
                "Anderson acceleration needs memory ≥ 1, refresh every ≥ 1 and a positive ridge, got \(memory), \(refreshEvery), \(ridge)")
        }
        return self
    }
}

/// The last `memory` inputs and outputs of the Sinkhorn fixed point, and their extrapolation.
struct AndersonHistory<Scalar: TransportScalar> {
    let settings: SinkhornAnderson
    private(set) var inputs: [[Scalar]] = []
    private(set) var outputs: [[Scalar]] = []

    init(_ settings: SinkhornAnderson) { self.settings = settings }

    /// Whether iteration `t` (1-based) starts from an extrapolation.
    func extrapolates(at t: Int) -> Bool {
        t > settings.memory && t % settings.refreshEvery == 0 && outputs.count == settings.memory
    }

    mutating func recordInput(_ g: [Scalar]) {
        inputs.append(g)
        if inputs.count > settings.memory { inputs.removeFirst() }
    }

    mutating func recordOutput(_ g: [Scalar]) {
        outputs.append(g)
        if outputs.count > settings.memory { outputs.removeFirst() }
    }

    /// Σ_k w_k·outputs_k, or nil when the weights are not finite (the caller keeps its g).
    func extrapolation() -> [Scalar]? {
        let m = outputs.count
        guard m == inputs.count, m > 0, let length = outputs.first?.count else { return nil }
        // Gram matrix of the residuals, in Double.
        let residuals = (0..<m).map { k in zip(outputs[k], inputs[k]).map { Double($0) - Double($1) } }
        var gram = [[Double]](repeating: [Double](repeating: 0, count: m), count: m)
        for a in 0..<m {
            for b in a..<m {
                var sum = 0.0
                for i in 0..<length { sum += residuals[a][i] * residuals[b][i] }
                gram[a][b] = sum
                gram[b][a] = sum
            }
        }
        let norm = gram.joined().reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0, norm.isFinite else { return nil }
        for a in 0..<m {
            for b in 0..<m { gram[a][b] /= norm }
            gram[a][a] += settings.ridge
        }
        guard let solution = Self.solve(gram, [Double](repeating: 1, count: m)) else { return nil }
        let total = solution.reduce(0, +)
        guard total != 0, total.isFinite else { return nil }
        let weights = solution.map { $0 / total }
        var combined = [Double](repeating: 0, count: length)
        for k in 0..<m {
            let w = weights[k]
            for i in 0..<length { combined[i] += w * Double(outputs[k][i]) }
        }
        guard combined.allSatisfy(\.isFinite) else { return nil }
        return combined.map { Scalar($0) }
    }

    /// Gaussian elimination with partial pivoting on the small symmetric positive-definite system.
    static func solve(_ matrix: [[Double]], _ rhs: [Double]) -> [Double]? {
        var a = matrix, b = rhs
        let m = b.count
        for column in 0..<m {
            guard let pivot = (column..<m).max(by: { abs(a[$0][column]) < abs(a[$1][column]) }),
                  a[pivot][column] != 0 else { return nil }
            a.swapAt(column, pivot)
            b.swapAt(column, pivot)
            for row in (column + 1)..<m {
                let factor = a[row][column] / a[column][column]
                for k in column..<m { a[row][k] -= factor * a[column][k] }
                b[row] -= factor * b[column]
            }
        }
        var x = [Double](repeating: 0, count: m)
        for row in stride(from: m - 1, through: 0, by: -1) {
            var sum = b[row]
            for k in (row + 1)..<m { sum -= a[row][k] * x[k] }
            x[row] = sum / a[row][row]
        }
        return x
    }
}
