import Foundation

/// A seeded pseudo-random generator whose streams are the same on every machine.
///
/// Algorithm: xoshiro256** (Blackman & Vigna, 2018) with its 256-bit state filled from the
/// 64-bit seed by SplitMix64, as the authors recommend. Derived values use only integer
/// arithmetic and IEEE-exact operations, except normals, which use `log` and `sqrt`:
/// - `uniform()` (Double): the top 53 bits of the next output × 2⁻⁵³, in [0, 1);
/// - `uniformFloat()`: the top 24 bits × 2⁻²⁴, in [0, 1);
/// - `normal()`: Marsaglia's polar method on pairs of `uniform()` in (−1, 1), caching the
///   second variate of each pair;
/// - `bounded(_:)`: Lemire's multiply-shift with rejection, unbiased;
/// - `shuffle`: Fisher–Yates from the last index down, drawing `bounded(i + 1)`.
///
/// It conforms to `RandomNumberGenerator`, but the standard library's own `random(in:using:)`
/// and `shuffled(using:)` may change between Swift releases; use the methods here where the
/// numbers must be reproducible.
public struct SeededRNG: RandomNumberGenerator, Sendable, Codable, Equatable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    private var spareNormal: Double?

    /// A generator seeded with `seed`; equal seeds give equal streams.
    public init(seed: UInt64) {
        var splitMix = seed
        func nextSplitMix() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = nextSplitMix()
        s1 = nextSplitMix()
        s2 = nextSplitMix()
        s3 = nextSplitMix()
        spareNormal = nil
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, by: 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, by: 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func uniformFloat() -> Float {
        Float(next() >> 40) * 0x1.0p-24
    }

    /// Uniform in [lower, upper).
    public mutating func uniform(in range: Range<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * uniform()
    }

    /// Standard normal variate (mean 0, variance 1).
    public mutating func normal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        while true {
            let u = 2 * uniform() - 1
            let v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let factor = (-2 * Foundation.log(s) / s).squareRoot()
                spareNormal = v * factor
                return u * factor
            }
        }
    }

    /// Normal variate with the given mean and standard deviation.
    public mutating func normal(mean: Double, standardDeviation: Double) -> Double {
        mean + standardDeviation * normal()
    }

    /// An integer uniform in `0..<upperBound` (upperBound > 0).
    public mutating func bounded(_ upperBound: Int) -> Int {
        precondition(upperBound > 0, "upper bound must be positive")
        let bound = UInt64(upperBound)
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = next().multipliedFullWidth(by: bound)
            }
        }
        return Int(product.high)
    }

    /// Shuffles `array` in place (Fisher–Yates).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = bounded(i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }

    /// A random permutation of `0..<count`.
    public mutating func permutation(_ count: Int) -> [Int] {
        var indices = Array(0..<count)
        shuffle(&indices)
        return indices
    }

    /// A matrix of independent standard normal entries, filled row by row.
    public mutating func normalMatrix<Scalar: BLASScalar>(
        rows: Int, cols: Int, as _: Scalar.Type = Scalar.self
    ) -> Matrix<Scalar> {
        Matrix(rows: rows, cols: cols) { _, _ in Scalar(normal()) }
    }

    @inline(__always)
    private func rotateLeft(_ x: UInt64, by k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}
