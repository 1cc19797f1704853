import Foundation
import LinearAlgebra
import Transport

/// Transport scalars whose Sinkhorn solvers can be called from generic training code: the
/// requirements forward to `Sinkhorn`'s concrete Float and Double entry points, which a generic
/// call from this module could not reach specialised.
public protocol NeuralScalar: TransportScalar {
    static func sinkhorn(_ x: Matrix<Self>, _ y: Matrix<Self>, options: SinkhornOptions) throws -> SinkhornResult<Self>
    static func symmetricSinkhorn(_ x: Matrix<Self>, options: SinkhornOptions) throws -> SinkhornResult<Self>
}

extension Float: NeuralScalar {
    public static func sinkhorn(_ x: Matrix<Float>, _ y: Matrix<Float>, options: SinkhornOptions) throws -> SinkhornResult<Float> {
        try Sinkhorn.solve(source: x, target: y, options: options)
    }

    public static func symmetricSinkhorn(_ x: Matrix<Float>, options: SinkhornOptions) throws -> SinkhornResult<Float> {
        try Sinkhorn.solveSymmetric(x, options: options)
    }
}

extension Double: NeuralScalar {
    public static func sinkhorn(_ x: Matrix<Double>, _ y: Matrix<Double>, options: SinkhornOptions) throws -> SinkhornResult<Double> {
        try Sinkhorn.solve(source: x, target: y, options: options)
    }

    public static func symmetricSinkhorn(_ x: Matrix<Double>, options: SinkhornOptions) throws -> SinkhornResult<Double> {
        try Sinkhorn.solveSymmetric(x, options: options)
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
        for index in x.storage.indices {
            let difference = Double(z.storage[index] - x.storage[index])
            displacementCost += difference * difference
        }
        let gradient = Matrix(rows: z.rows, cols: z.cols) { i, j in
            Scalar(2 / n) * (z[i, j] - x[i, j]) - otGradient[i, j]
        }
        return PointLoss(value: displacementCost / n - solution.regOTCost, gradient: gradient, converged: solution.converged)
    }

    /// The dense plan P_ij = exp((f_i + g_j − c(x_i, y_j))/ε)/(n·m) of uniform clouds.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func plan<Scalar: NeuralScalar>(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>, _ solution: SinkhornResult<Scalar>) -> EntropicPlan<Scalar> {
        let cost = squaredEuclideanCostMatrix(x.converted(to: Double.self), y.converted(to: Double.self))
        let logMass = -log(Double(x.rows)) - log(Double(y.rows))
        let epsilon = solution.epsilon
        let plan = Matrix<Scalar>(rows: x.rows, cols: y.rows) { i, j in
            Scalar(exp((Double(solution.f[i]) + Double(solution.g[j]) - cost[i, j]) / epsilon + logMass))
        }
        return EntropicPlan(matrix: plan)
    }
}

/// A dense entropic plan between two clouds, and the gradients of ⟨P, C⟩ with C = ‖x_i − y_j‖²
/// that the envelope theorem gives.
struct EntropicPlan<Scalar: BLASScalar> {
    let matrix: Matrix<Scalar>

    /// ∂/∂x_i = 2(r_i x_i − (P y)_i).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func gradientInRows(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>) -> Matrix<Scalar> {
        let pulled = matrix.multiplied(by: y)
        let rowSums = (0..<matrix.rows).map { i in matrix.row(i).reduce(0, +) }
        return Matrix(rows: x.rows, cols: x.cols) { i, j in 2 * (rowSums[i] * x[i, j] - pulled[i, j]) }
    }

    /// ∂/∂y_j = 2(c_j y_j − (Pᵀ x)_j).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func gradientInColumns(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>) -> Matrix<Scalar> {
        let pulled = matrix.multiplied(by: x, transposeSelf: true)
        let columnSums = matrix.columnSums()
        return Matrix(rows: y.rows, cols: y.cols) { j, k in 2 * (columnSums[j] * y[j, k] - pulled[j, k]) }
    }
}
