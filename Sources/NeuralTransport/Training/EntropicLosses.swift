import Foundation
import LinearAlgebra
import Transport

/// Transport scalars whose Sinkhorn solvers can be called from generic training code: the
/// requirements forward to `Sinkhorn`'s concrete Float and Double entry points, which a generic
/// call from this module could not reach specialised.
public protocol NeuralScalar: TransportScalar {
    static func sinkhorn(_ x: Matrix<Self>, _ y: Matrix<Self>, options: SinkhornOptions) throws -> SinkhornResult<Self>
    static func symmetricSinkhorn(_ x: Matrix<Self>, options: SinkhornOptions) throws -> SinkhornResult<Self>
    static func sinkhornPlan(_ x: Matrix<Self>, _ y: Matrix<Self>, _ solution: SinkhornResult<Self>) -> SinkhornPlan<Self>
}

extension Float: NeuralScalar {
    public static func sinkhorn(_ x: Matrix<Float>, _ y: Matrix<Float>, options: SinkhornOptions) throws -> SinkhornResult<Float> {
        try Sinkhorn.solve(source: x, target: y, options: options)
    }

    public static func symmetricSinkhorn(_ x: Matrix<Float>, options: SinkhornOptions) throws -> SinkhornResult<Float> {
        try Sinkhorn.solveSymmetric(x, options: options)
    }

    public static func sinkhornPlan(_ x: Matrix<Float>, _ y: Matrix<Float>, _ solution: SinkhornResult<Float>) -> SinkhornPlan<Float> {
        SinkhornPlan(source: x, target: y, solution: solution)
    }
}

extension Double: NeuralScalar {
    public static func sinkhorn(_ x: Matrix<Double>, _ y: Matrix<Double>, options: SinkhornOptions) throws -> SinkhornResult<Double> {
        try Sinkhorn.solve(source: x, target: y, options: options)
    }

    public static func symmetricSinkhorn(_ x: Matrix<Double>, options: SinkhornOptions) throws -> SinkhornResult<Double> {
        try Sinkhorn.solveSymmetric(x, options: options)
    }

    public static func sinkhornPlan(_ x: Matrix<Double>, _ y: Matrix<Double>, _ solution: SinkhornResult<Double>) -> SinkhornPlan<Double> {
        SinkhornPlan(source: x, target: y, solution: solution)
    }
}

/// A loss value, its gradient with respect to the moved points, and whether every Sinkhorn
/// solve behind it converged.
public struct PointLoss<Scalar: BLASScalar>: Sendable {
    public let value: Double
    public let gradient: Matrix<Scalar>
    public let converged: Bool
}

/// Entropic OT losses of a batch of moved points z, with their gradients in z by the envelope
/// theorem: at the Sinkhorn solution, the derivative of OT_ε(x, y) with respect to the cost
/// matrix is the plan P, so ∂/∂x_i = Σ_j P_ij ∂c(x_i, y_j)/∂x_i = 2(r_i x_i − (P y)_i) for
/// c = ‖x − y‖² (r the row sums of P), with the potentials held fixed. ε is held fixed too: it is
/// chosen from the batch, as OTT-JAX does, and not differentiated.
public enum EntropicLosses {
    /// S_ε(z, y) = OT_ε(z, y) − ½OT_ε(z, z) − ½OT_ε(y, y) and its gradient in z; one ε (from
    /// `options` on the (z, y) cost) serves the three terms, as `SinkhornDivergence` does.
    /// OT_ε(y, y) does not depend on z: it is solved only when `includeTargetTerm`, for the value.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func sinkhornDivergence<Scalar: NeuralScalar>(
        _ z: Matrix<Scalar>, _ y: Matrix<Scalar>, options: SinkhornOptions, includeTargetTerm: Bool = true
    ) throws -> PointLoss<Scalar> {
        let cross = try Scalar.sinkhorn(z, y, options: options)
        var fixed = options
        fixed.epsilon = .fixed(cross.epsilon)
        let own = try Scalar.symmetricSinkhorn(z, options: fixed)
        let target = includeTargetTerm ? try Scalar.symmetricSinkhorn(y, options: fixed) : nil
        let crossGradient = plan(z, y, cross).gradientInRows(z, y)
        // z appears on both sides of OT_ε(z, z): the gradient is twice the one-sided one.
        let ownGradient = plan(z, z, own).gradientInRows(z, z)
        let gradient = crossGradient - ownGradient
        let value = cross.regOTCost - 0.5 * own.regOTCost - 0.5 * (target?.regOTCost ?? 0)
        return PointLoss(value: value, gradient: gradient,
                         converged: cross.converged && own.converged && (target?.converged ?? true))
    }

    /// The Monge gap of the pairs (x_i, z_i) (Uscidda & Cuturi 2023):
    /// (1/n)Σ_i c(x_i, z_i) − OT_ε(x̂, ẑ), with ε from `options` on the (x, z) cost, and its
    /// gradient in z. It is ≥ 0 up to entropic bias, and 0 only for an optimal pairing.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func mongeGap<Scalar: NeuralScalar>(
        reference x: Matrix<Scalar>, mapped z: Matrix<Scalar>, options: SinkhornOptions
    ) throws -> PointLoss<Scalar> {
        precondition(x.rows == z.rows && x.cols == z.cols, "Monge gap needs one mapped point per reference point")
        let n = Double(x.rows)
        let solution = try Scalar.sinkhorn(x, z, options: options)
        let otGradient = plan(x, z, solution).gradientInColumns(x, z)
        var displacementCost = 0.0
        var gradient = otGradient
        let scale = Scalar(2 / n)
        x.withUnsafeBufferPointer { xs in
            z.withUnsafeBufferPointer { zs in
                gradient.withUnsafeMutableBufferPointer { out in
                    for index in 0..<out.count {
                        let difference = zs[index] - xs[index]
                        displacementCost += Double(difference * difference)
                        out[index] = scale * difference - out[index]
                    }
                }
            }
        }
        return PointLoss(value: displacementCost / n - solution.regOTCost, gradient: gradient, converged: solution.converged)
    }

    /// The dense plan P_ij = exp((f_i + g_j − c(x_i, y_j))/ε)/(n·m) of uniform clouds, in their
    /// precision (`SinkhornPlan`).
    static func plan<Scalar: NeuralScalar>(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>, _ solution: SinkhornResult<Scalar>) -> EntropicPlan<Scalar> {
        EntropicPlan(plan: Scalar.sinkhornPlan(x, y, solution))
    }
}

/// A dense entropic plan between two clouds, and the gradients of ⟨P, C⟩ with C = ‖x_i − y_j‖²
/// that the envelope theorem gives.
struct EntropicPlan<Scalar: BLASScalar> {
    let plan: SinkhornPlan<Scalar>

    var matrix: Matrix<Scalar> { plan.matrix }

    /// ∂/∂x_i = 2(r_i x_i − (P y)_i).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func gradientInRows(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>) -> Matrix<Scalar> {
        Self.envelopeGradient(points: x, sums: plan.rowSums, pulled: matrix.multiplied(by: y))
    }

    /// ∂/∂y_j = 2(c_j y_j − (Pᵀ x)_j).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func gradientInColumns(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>) -> Matrix<Scalar> {
        Self.envelopeGradient(points: y, sums: matrix.columnSums(), pulled: matrix.multiplied(by: x, transposeSelf: true))
    }

    /// 2(s_i p_i − q_i) row by row, written over `pulled` (q).
    private static func envelopeGradient(points p: Matrix<Scalar>, sums: [Scalar], pulled: Matrix<Scalar>) -> Matrix<Scalar> {
        var result = pulled
        let d = p.cols
        p.withUnsafeBufferPointer { ps in
            result.withUnsafeMutableBufferPointer { q in
                for i in 0..<p.rows {
                    let s = sums[i]
                    for k in 0..<d { q[i * d + k] = 2 * (s * ps[i * d + k] - q[i * d + k]) }
                }
            }
        }
        return result
    }
}
