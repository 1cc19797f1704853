/// ln x lane by lane for x ≥ 1 (finite), the logarithm of the STVS cost's asinh.
///
/// libm's `log` is a call per element and stops the cost kernel from vectorising. Here x = 2ᵉ·m
/// is split through its bits, m brought into [√½, √2) (e += 1 when m > √2), and
/// ln m = 2·atanh(t) = 2(t + t³/3 + … + t²¹/21) with t = (m − 1)/(m + 1), |t| ≤ 0.1716, whose
/// truncation error is below 1e-17; ln 2 is split in two so that e·ln 2 adds no rounding.
/// Checked against `Foundation.log` in the tests (a few ulp).
@inline(__always)
func vectorLogarithm(_ x: SIMD4<Double>) -> SIMD4<Double> {
    let bits = unsafeBitCast(x, to: SIMD4<UInt64>.self)
    let mantissa = unsafeBitCast((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000, to: SIMD4<Double>.self)
    // The biased exponent as a Double without an integer conversion: 2⁵² + e_biased, less 2⁵².
    let biased = unsafeBitCast((bits &>> 52) | 0x4330_0000_0000_0000, to: SIMD4<Double>.self) - 4_503_599_627_370_496
    let large = mantissa .> 1.414_213_562_373_095_1
    let m = mantissa.replacing(with: mantissa * 0.5, where: large)
    let exponent = (biased - 1023).replacing(with: biased - 1022, where: large)
    let t = (m - 1) / (m + 1), t2 = t * t
    var series = SIMD4<Double>(repeating: 1.0 / 21)
    series = series * t2 + 1.0 / 19
    series = series * t2 + 1.0 / 17
    series = series * t2 + 1.0 / 15
    series = series * t2 + 1.0 / 13
    series = series * t2 + 1.0 / 11
    series = series * t2 + 1.0 / 9
    series = series * t2 + 1.0 / 7
    series = series * t2 + 1.0 / 5
    series = series * t2 + 1.0 / 3
    series = series * t2 + 1
    return exponent * 6.931_471_803_691_238_2e-1 + (exponent * 1.908_214_929_270_587_7e-10 + 2 * t * series)
}
