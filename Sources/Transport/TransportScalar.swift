import CRowKernels
import LinearAlgebra

/// A BLAS scalar with a SIMD exponential, the kernel of the row-wise log-sum-exps.
///
/// libm's `exp` is a function call per element and does not vectorise; Sinkhorn spends almost
/// all its time in exp. The vector exp here is the classical Cody–Waite reduction
/// x = k·ln2 + r with |r| ≤ ln2/2, a Taylor polynomial for eʳ, and 2ᵏ built in the exponent
/// bits. Relative error: about 2 ulp for Float (degree 7) and 4e-16 for Double (degree 13),
/// checked against libm in the tests. Inputs below the smallest normal exponent are clamped,
/// so e^(−∞) comes out as a tiny positive number rather than 0: harmless in sums whose
/// largest term is 1, which is how the log-sum-exps use it.
public protocol TransportScalar: BLASScalar {
    associatedtype Vector: KernelVector where Vector.Scalar == Self
    /// eˣ lane by lane.
    static func exponential(_ x: Vector) -> Vector

    /// log Σ_j exp(v_j) with v_j = offsets_j − cost_j·inverseEpsilon.
    ///
    /// One pass, Σ exp(v_j − guess), when `guess` is close enough to the result that this sum
    /// stays far inside the exponent range; otherwise the safe two passes: the maximum first
    /// (the v_j go to `scratch`, count entries), then Σ exp(v_j − max).
    static func logSumExp(
        cost: UnsafePointer<Self>, offsets: UnsafePointer<Self>, count: Int,
        inverseEpsilon: Self, guess: Self, scratch: UnsafeMutablePointer<Self>
    ) -> Self

    /// Σ_j exp(offsets_j − cost_j·inverseEpsilon − shift): the one-pass sum of `logSumExp`, run
    /// by the C kernel of `CRowKernels` (compiled for AVX-512, AVX2 + FMA and the baseline; the
    /// loader picks the widest the processor has), with the polynomial of `exponential`.
    static func shiftedExponentialSum(
        cost: UnsafePointer<Self>, offsets: UnsafePointer<Self>, count: Int, inverseEpsilon: Self, shift: Self
    ) -> Self

    /// Writes v_j = offsets_j − cost_j·inverseEpsilon to `output` (which may be `cost`) and
    /// returns max_j v_j (C kernel).
    static func exponents(
        cost: UnsafePointer<Self>, offsets: UnsafePointer<Self>, count: Int, inverseEpsilon: Self,
        into output: UnsafeMutablePointer<Self>
    ) -> Self

    /// Σ_j exp(v_j − shift), writing each exponential back over v_j when `storing` (C kernel).
    static func sumOfExponentials(_ values: UnsafeMutablePointer<Self>, count: Int, shift: Self, storing: Bool) -> Self

    /// Replaces cost_j by softmax_j(v) with v_j = offsets_j − cost_j·inverseEpsilon.
    static func softmaxInPlace(
        cost: UnsafeMutablePointer<Self>, offsets: UnsafePointer<Self>, count: Int, inverseEpsilon: Self)

    /// row_j ← max(0, row_j + rowNorm + columnNorms_j): completes ‖x‖² + ‖y‖² − 2x·y, clamping
    /// the slightly negative values rounding gives for near-equal points.
    static func addSquaredNorms(
        to row: UnsafeMutablePointer<Self>, rowNorm: Self, columnNorms: UnsafePointer<Self>, count: Int)

    /// target_j ← Double(source_j) for `count` values. Concrete in each conformance: a generic
    /// `Double(x)` inside an unspecialised kernel is a dynamic cast per element.
    static func widen(_ source: UnsafePointer<Self>, into target: UnsafeMutablePointer<Double>, count: Int)

    /// target_j ← Self(source_j), rounding to nearest, for `count` values.
    static func narrow(_ source: UnsafePointer<Double>, into target: UnsafeMutablePointer<Self>, count: Int)
}

extension Float: TransportScalar {
    public typealias Vector = SIMD8<Float>

    // Concrete forwarding, so the generic kernel is specialised in this file even when files
    // are optimised one at a time (debug builds); unspecialised SIMD code is ~100× slower.
    public static func logSumExp(
        cost: UnsafePointer<Float>, offsets: UnsafePointer<Float>, count: Int,
        inverseEpsilon: Float, guess: Float, scratch: UnsafeMutablePointer<Float>
    ) -> Float {
        RowKernels.logSumExp(cost: cost, offsets: offsets, count: count, inverseEpsilon: inverseEpsilon,
                             guess: guess, trustedRange: 0x1p-40 ... 0x1p40, scratch: scratch)
    }

    @inline(__always)
    public static func shiftedExponentialSum(
        cost: UnsafePointer<Float>, offsets: UnsafePointer<Float>, count: Int, inverseEpsilon: Float, shift: Float
    ) -> Float {
        perturbot_shifted_exp_sum_f32(cost, offsets, count, inverseEpsilon, shift)
    }

    @inline(__always)
    public static func exponents(
        cost: UnsafePointer<Float>, offsets: UnsafePointer<Float>, count: Int, inverseEpsilon: Float,
        into output: UnsafeMutablePointer<Float>
    ) -> Float {
        perturbot_exponents_max_f32(cost, offsets, count, inverseEpsilon, output)
    }

    @inline(__always)
    public static func sumOfExponentials(_ values: UnsafeMutablePointer<Float>, count: Int, shift: Float, storing: Bool) -> Float {
        perturbot_exp_sum_f32(values, count, shift, storing ? 1 : 0)
    }

    public static func softmaxInPlace(
        cost: UnsafeMutablePointer<Float>, offsets: UnsafePointer<Float>, count: Int, inverseEpsilon: Float
    ) {
        RowKernels.softmaxInPlace(cost: cost, offsets: offsets, count: count, inverseEpsilon: inverseEpsilon)
    }

    public static func addSquaredNorms(
        to row: UnsafeMutablePointer<Float>, rowNorm: Float, columnNorms: UnsafePointer<Float>, count: Int
    ) {
        RowKernels.addSquaredNorms(to: row, rowNorm: rowNorm, columnNorms: columnNorms, count: count)
    }

    public static func widen(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Double>, count: Int) {
        for j in 0..<count { target[j] = Double(source[j]) }
    }

    public static func narrow(_ source: UnsafePointer<Double>, into target: UnsafeMutablePointer<Float>, count: Int) {
        for j in 0..<count { target[j] = Float(source[j]) }
    }

    @inline(__always)
    public static func exponential(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // Constants are written inline: a stored static would cost a lazy-initialisation check
        // per call, and the stdlib's clamped/pointwiseMax are not always inlined.
        let roundingShift = SIMD8<Float>(repeating: 12_582_912)  // 1.5·2²³
        let roundingShiftBits = SIMD8<Int32>(repeating: 0x4B40_0000)
        let clamped = simdClamp(x, -87.3, 88.3)
        // Adding 1.5·2²³ rounds x·log2(e) to an integer k held in the low significand bits:
        // both k as a float and its bits for 2ᵏ come without a (slow, generic) conversion.
        let shifted = clamped * 1.442_695_04 + roundingShift
        let k = shifted - roundingShift
        // ln2 split in a part exact in few bits and a correction, so k·ln2 loses nothing.
        let r = clamped - k * 0.693_359_375 + k * 2.121_944_4e-4
        var p = SIMD8<Float>(repeating: 1.0 / 5040)
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let exponent = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- roundingShiftBits &+ 127) &<< 23
        return p * unsafeBitCast(exponent, to: SIMD8<Float>.self)
    }
}

extension Double: TransportScalar {
    public typealias Vector = SIMD4<Double>

    // Concrete forwarding, so the generic kernel is specialised in this file even when files
    // are optimised one at a time (debug builds); unspecialised SIMD code is ~100× slower.
    public static func logSumExp(
        cost: UnsafePointer<Double>, offsets: UnsafePointer<Double>, count: Int,
        inverseEpsilon: Double, guess: Double, scratch: UnsafeMutablePointer<Double>
    ) -> Double {
        RowKernels.logSumExp(cost: cost, offsets: offsets, count: count, inverseEpsilon: inverseEpsilon,
                             guess: guess, trustedRange: 0x1p-500 ... 0x1p500, scratch: scratch)
    }

    @inline(__always)
    public static func shiftedExponentialSum(
        cost: UnsafePointer<Double>, offsets: UnsafePointer<Double>, count: Int, inverseEpsilon: Double, shift: Double
    ) -> Double {
        perturbot_shifted_exp_sum_f64(cost, offsets, count, inverseEpsilon, shift)
    }

    @inline(__always)
    public static func exponents(
        cost: UnsafePointer<Double>, offsets: UnsafePointer<Double>, count: Int, inverseEpsilon: Double,
        into output: UnsafeMutablePointer<Double>
    ) -> Double {
        perturbot_exponents_max_f64(cost, offsets, count, inverseEpsilon, output)
    }

    @inline(__always)
    public static func sumOfExponentials(_ values: UnsafeMutablePointer<Double>, count: Int, shift: Double, storing: Bool) -> Double {
        perturbot_exp_sum_f64(values, count, shift, storing ? 1 : 0)
    }

    public static func softmaxInPlace(
        cost: UnsafeMutablePointer<Double>, offsets: UnsafePointer<Double>, count: Int, inverseEpsilon: Double
    ) {
        RowKernels.softmaxInPlace(cost: cost, offsets: offsets, count: count, inverseEpsilon: inverseEpsilon)
    }

    public static func addSquaredNorms(
        to row: UnsafeMutablePointer<Double>, rowNorm: Double, columnNorms: UnsafePointer<Double>, count: Int
    ) {
        RowKernels.addSquaredNorms(to: row, rowNorm: rowNorm, columnNorms: columnNorms, count: count)
    }

    public static func widen(_ source: UnsafePointer<Double>, into target: UnsafeMutablePointer<Double>, count: Int) {
        for j in 0..<count { target[j] = source[j] }
    }

    public static func narrow(_ source: UnsafePointer<Double>, into target: UnsafeMutablePointer<Double>, count: Int) {
        for j in 0..<count { target[j] = source[j] }
    }

    @inline(__always)
    public static func exponential(_ x: SIMD4<Double>) -> SIMD4<Double> {
        let roundingShift = SIMD4<Double>(repeating: 6_755_399_441_055_744)  // 1.5·2⁵²
        let roundingShiftBits = SIMD4<Int64>(repeating: 0x4338_0000_0000_0000)
        let clamped = simdClamp(x, -708.3, 709.0)
        let shifted = clamped * 1.442_695_040_888_963_4 + roundingShift
        let k = shifted - roundingShift
        let r = clamped - k * 6.931_471_803_691_238_2e-1 - k * 1.908_214_929_270_587_7e-10
        // Horner over 1/13!, 1/12!, …, 1/1!, 1/0!, written out: a loop over a stored table
        // would cost a bounds check and a lazy-global check per call.
        var p = SIMD4<Double>(repeating: 1.0 / 6_227_020_800)
        p = p * r + 1.0 / 479_001_600
        p = p * r + 1.0 / 39_916_800
        p = p * r + 1.0 / 3_628_800
        p = p * r + 1.0 / 362_880
        p = p * r + 1.0 / 40_320
        p = p * r + 1.0 / 5_040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let exponent = (unsafeBitCast(shifted, to: SIMD4<Int64>.self) &- roundingShiftBits &+ 1023) &<< 52
        return p * unsafeBitCast(exponent, to: SIMD4<Double>.self)
    }
}

/// Which build of the C row kernels this processor runs: `avx512`, `avx2` or `baseline`
/// (benchmarks report it beside their timings).
public let rowKernelInstructionSet = String(cString: perturbot_row_kernel_isa())

/// The generic bodies of the row kernels (see `TransportScalar`).
private enum RowKernels {
    /// `trustedRange`: one-pass sums accepted; far from both ends of the exponent range, so
    /// that the largest term is well above the clamped underflow and nothing overflows.
    @inline(__always)
    static func logSumExp<Scalar: TransportScalar>(
        cost: UnsafePointer<Scalar>, offsets: UnsafePointer<Scalar>, count: Int,
        inverseEpsilon: Scalar, guess: Scalar, trustedRange: ClosedRange<Scalar>, scratch: UnsafeMutablePointer<Scalar>
    ) -> Scalar {
        if guess.isFinite {
            let sum = Scalar.shiftedExponentialSum(cost: cost, offsets: offsets, count: count,
                                                   inverseEpsilon: inverseEpsilon, shift: guess)
            if trustedRange.contains(sum) { return guess + Scalar.logarithm(sum) }
        }
        let maximum = Scalar.exponents(cost: cost, offsets: offsets, count: count, inverseEpsilon: inverseEpsilon, into: scratch)
        guard maximum.isFinite else { return maximum }
        return maximum + Scalar.logarithm(Scalar.sumOfExponentials(scratch, count: count, shift: maximum, storing: false))
    }

    @inline(__always)
    static func softmaxInPlace<Scalar: TransportScalar>(
        cost: UnsafeMutablePointer<Scalar>, offsets: UnsafePointer<Scalar>, count: Int, inverseEpsilon: Scalar
    ) {
        let maximum = Scalar.exponents(cost: cost, offsets: offsets, count: count, inverseEpsilon: inverseEpsilon, into: cost)
        let inverseSum = 1 / Scalar.sumOfExponentials(cost, count: count, shift: maximum, storing: true)
        for j in 0..<count { cost[j] *= inverseSum }
    }

    @inline(__always)
    static func addSquaredNorms<Scalar: TransportScalar>(
        to row: UnsafeMutablePointer<Scalar>, rowNorm: Scalar, columnNorms: UnsafePointer<Scalar>, count: Int
    ) {
        let width = Scalar.Vector.scalarCount
        let vectorEnd = count - count % width
        let zero = Scalar.Vector(repeating: 0)
        var j = 0
        while j < vectorEnd {
            store(simdMax(zero, load(row + j) + load(columnNorms + j) + rowNorm), row + j)
            j += width
        }
        while j < count {
            row[j] = Swift.max(0, row[j] + rowNorm + columnNorms[j])
            j += 1
        }
    }

    @inline(__always)
    private static func load<Scalar: TransportScalar>(_ pointer: UnsafePointer<Scalar>) -> Scalar.Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Scalar.Vector.self)
    }

    @inline(__always)
    private static func load<Scalar: TransportScalar>(_ pointer: UnsafeMutablePointer<Scalar>) -> Scalar.Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Scalar.Vector.self)
    }

    @inline(__always)
    private static func store<Scalar: TransportScalar>(_ vector: Scalar.Vector, _ pointer: UnsafeMutablePointer<Scalar>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: Scalar.Vector.self)
    }
}

/// Lane selection for the SIMD kernels by sign bits: the standard library's mask-based
/// `pointwiseMax`, `clamped` and `replacing(with:where:)` compile to per-lane loops that are
/// not inlined, which made them most of Sinkhorn's run time.
public protocol KernelVector: SIMD where Scalar: BinaryFloatingPoint {
    /// Lane by lane: `whenNegative` where `sign` has its sign bit set, else `otherwise`.
    static func choose(bySignOf sign: Self, whenNegative: Self, otherwise: Self) -> Self
}

extension SIMD8: KernelVector where Scalar == Float {
    @inline(__always)
    public static func choose(bySignOf sign: SIMD8<Float>, whenNegative: SIMD8<Float>, otherwise: SIMD8<Float>) -> SIMD8<Float> {
        let mask = unsafeBitCast(sign, to: SIMD8<Int32>.self) &>> 31  // all ones where negative
        let a = unsafeBitCast(whenNegative, to: SIMD8<Int32>.self), b = unsafeBitCast(otherwise, to: SIMD8<Int32>.self)
        return unsafeBitCast((a & mask) | (b & ~mask), to: SIMD8<Float>.self)
    }
}

extension SIMD4: KernelVector where Scalar == Double {
    @inline(__always)
    public static func choose(bySignOf sign: SIMD4<Double>, whenNegative: SIMD4<Double>, otherwise: SIMD4<Double>) -> SIMD4<Double> {
        let mask = unsafeBitCast(sign, to: SIMD4<Int64>.self) &>> 63
        let a = unsafeBitCast(whenNegative, to: SIMD4<Int64>.self), b = unsafeBitCast(otherwise, to: SIMD4<Int64>.self)
        return unsafeBitCast((a & mask) | (b & ~mask), to: SIMD4<Double>.self)
    }
}

/// Lane-wise maximum (exact; −∞ lanes lose to anything finite).
@inline(__always)
func simdMax<Vector: KernelVector>(_ a: Vector, _ b: Vector) -> Vector {
    Vector.choose(bySignOf: a - b, whenNegative: b, otherwise: a)
}

/// Clamps every lane to [lower, upper]; −∞ becomes `lower`.
@inline(__always)
func simdClamp<Vector: KernelVector>(_ x: Vector, _ lower: Vector.Scalar, _ upper: Vector.Scalar) -> Vector {
    let low = Vector(repeating: lower), high = Vector(repeating: upper)
    let raised = Vector.choose(bySignOf: x - low, whenNegative: low, otherwise: x)
    return Vector.choose(bySignOf: high - raised, whenNegative: high, otherwise: raised)
}
