import CNeuralKernels
import LinearAlgebra

/// The ICNN's element-wise activation passes through the C kernels of `CNeuralKernels` (the
/// widest vector unit the processor has; Swift is compiled for SSE2), each writing a fresh
/// matrix without first copying or zeroing it. Each kernel computes its formula with the same
/// operations in the same order as the Swift fallback here, so the results are the same to
/// the bit.
enum LeakyReLUKernels {
    /// σ(h) (or σ(h)² when `squared`) for every entry of `pre`.
    static func activation<Scalar: BLASScalar>(_ pre: Matrix<Scalar>, slope: Scalar, squared: Bool) -> Matrix<Scalar> {
        pre.withUnsafeBufferPointer { preBuffer in
            Matrix(rows: pre.rows, cols: pre.cols) { out in
                guard let h = preBuffer.baseAddress, let o = out.baseAddress else { return }
                let count = out.count
                if Scalar.self == Float.self {
                    perturbot_leaky_activation_f32(h.typed(Float.self), o.typed(Float.self), count, unsafeBitCast(slope, to: Float.self), squared ? 1 : 0)
                } else if Scalar.self == Double.self {
                    perturbot_leaky_activation_f64(h.typed(Double.self), o.typed(Double.self), count, unsafeBitCast(slope, to: Double.self), squared ? 1 : 0)
                } else {
                    for i in 0..<count {
                        let a = h[i] > 0 ? h[i] : slope * h[i]
                        (o + i).initialize(to: squared ? a * a : a)
                    }
                }
            }
        }
    }

    /// values ⊙ dz/dh(pre): σ'(h), or 2σ(h)σ'(h) when `squared` (the chain rule through a layer).
    static func chain<Scalar: BLASScalar>(_ values: Matrix<Scalar>, pre: Matrix<Scalar>, slope: Scalar, squared: Bool) -> Matrix<Scalar> {
        precondition(values.rows == pre.rows && values.cols == pre.cols, "element-wise operands differ in shape")
        return values.withUnsafeBufferPointer { valueBuffer in
            pre.withUnsafeBufferPointer { preBuffer in
                Matrix(rows: pre.rows, cols: pre.cols) { out in
                    guard let v = valueBuffer.baseAddress, let h = preBuffer.baseAddress, let o = out.baseAddress else { return }
                    let count = out.count
                    if Scalar.self == Float.self {
                        perturbot_leaky_chain_f32(v.typed(Float.self), h.typed(Float.self), o.typed(Float.self), count, unsafeBitCast(slope, to: Float.self), squared ? 1 : 0)
                    } else if Scalar.self == Double.self {
                        perturbot_leaky_chain_f64(v.typed(Double.self), h.typed(Double.self), o.typed(Double.self), count, unsafeBitCast(slope, to: Double.self), squared ? 1 : 0)
                    } else {
                        for i in 0..<count {
                            let s = h[i] > 0 ? 1 : slope
                            let a = h[i] > 0 ? h[i] : slope * h[i]
                            (o + i).initialize(to: v[i] * (squared ? 2 * a * s : s))
                        }
                    }
                }
            }
        }
    }

    /// values ⊙ tangent ⊙ 2σ'(pre)²: the second derivative of σ(h)² along a tangent.
    static func squareCurvature<Scalar: BLASScalar>(
        _ values: Matrix<Scalar>, tangent: Matrix<Scalar>, pre: Matrix<Scalar>, slope: Scalar
    ) -> Matrix<Scalar> {
        precondition(values.rows == pre.rows && values.cols == pre.cols && tangent.rows == pre.rows && tangent.cols == pre.cols,
                     "element-wise operands differ in shape")
        return values.withUnsafeBufferPointer { valueBuffer in
            tangent.withUnsafeBufferPointer { tangentBuffer in
                pre.withUnsafeBufferPointer { preBuffer in
                    Matrix(rows: pre.rows, cols: pre.cols) { out in
                        guard let v = valueBuffer.baseAddress, let t = tangentBuffer.baseAddress, let h = preBuffer.baseAddress,
                              let o = out.baseAddress else { return }
                        let count = out.count
                        if Scalar.self == Float.self {
                            perturbot_leaky_square_curvature_f32(v.typed(Float.self), t.typed(Float.self), h.typed(Float.self), o.typed(Float.self), count, unsafeBitCast(slope, to: Float.self))
                        } else if Scalar.self == Double.self {
                            perturbot_leaky_square_curvature_f64(v.typed(Double.self), t.typed(Double.self), h.typed(Double.self), o.typed(Double.self), count, unsafeBitCast(slope, to: Double.self))
                        } else {
                            for i in 0..<count {
                                let s = h[i] > 0 ? 1 : slope
                                (o + i).initialize(to: v[i] * t[i] * 2 * s * s)
                            }
                        }
                    }
                }
            }
        }
    }
}
