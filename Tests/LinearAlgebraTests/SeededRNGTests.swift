import LinearAlgebra
import XCTest

final class SeededRNGTests: XCTestCase {
    /// Values from scripts/fixtures/rng_reference.py, an independent Python implementation.
    func testStreamMatchesReferenceImplementation() {
        var zero = SeededRNG(seed: 0)
        XCTAssertEqual((0..<4).map { _ in zero.next() },
                       [0x99ec_5f36_cb75_f2b4, 0xbf6e_1f78_4956_452a, 0x1a5f_849d_4933_e6e0, 0x6aa5_94f1_262d_2d2c])
        var fortyTwo = SeededRNG(seed: 42)
        XCTAssertEqual((0..<4).map { _ in fortyTwo.next() },
                       [0x1578_0b2e_0c2e_c716, 0x6104_d986_6d11_3a7e, 0xae17_5332_39e4_99a1, 0xecb8_ad47_03b3_60a1])
        var seven = SeededRNG(seed: 7)
        XCTAssertEqual((0..<3).map { _ in seven.uniform() },
                       [0.7005764821796896, 0.2787512294737843, 0.8396274618764198])
    }

    func testSameSeedSameNumbersDifferentSeedDifferentNumbers() {
        var a = SeededRNG(seed: 5), b = SeededRNG(seed: 5), c = SeededRNG(seed: 6)
        let streamA = (0..<100).map { _ in a.normal() }
        XCTAssertEqual(streamA, (0..<100).map { _ in b.normal() })
        XCTAssertNotEqual(streamA, (0..<100).map { _ in c.normal() })
    }

    func testNormalMomentsAndUniformRange() {
        var rng = SeededRNG(seed: 1)
        let n = 200_000
        let samples = (0..<n).map { _ in rng.normal() }
        let mean = samples.reduce(0, +) / Double(n)
        let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        // 5 standard errors: mean SE = 1/√n ≈ 0.0022, variance SE ≈ √(2/n) ≈ 0.0032.
        XCTAssertEqual(mean, 0, accuracy: 0.011)
        XCTAssertEqual(variance, 1, accuracy: 0.016)
        for _ in 0..<10_000 {
            let u = rng.uniform()
            XCTAssertTrue(u >= 0 && u < 1)
            let f = rng.uniformFloat()
            XCTAssertTrue(f >= 0 && f < 1)
        }
    }

    func testBoundedIsUniformAndShuffleIsAPermutation() {
        var rng = SeededRNG(seed: 9)
        var counts = [Int](repeating: 0, count: 6)
        let draws = 60_000
        for _ in 0..<draws { counts[rng.bounded(6)] += 1 }
        // Chi-square with 5 degrees of freedom; 20.5 is its 99.9th percentile.
        let expected = Double(draws) / 6
        let chiSquare = counts.reduce(0.0) { $0 + pow(Double($1) - expected, 2) / expected }
        XCTAssertLessThan(chiSquare, 20.5)
        let permutation = rng.permutation(1000)
        XCTAssertEqual(permutation.sorted(), Array(0..<1000))
        XCTAssertNotEqual(permutation, Array(0..<1000))
        var again = SeededRNG(seed: 9)
        for _ in 0..<draws { _ = again.bounded(6) }
        XCTAssertEqual(again.permutation(1000), permutation)
    }
}
