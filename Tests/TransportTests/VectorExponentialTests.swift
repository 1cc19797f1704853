import Foundation
import Transport
import XCTest

/// The SIMD exponential against libm over the range the log-sum-exps use (x ≤ 0) and beyond.
final class VectorExponentialTests: XCTestCase {
    func testDoubleMatchesLibmToFewUlp() {
        var worst = 0.0
        for i in 0..<20_000 {
            let x = -700 + 1400 * Double(i) / 20_000 + 1e-3 * Double(i % 7)
            let lanes = Double.exponential(SIMD4(x, x / 3, -x / 7, x / 1000))
            for lane in 0..<4 {
                let input = [x, x / 3, -x / 7, x / 1000][lane]
                worst = max(worst, abs(lanes[lane] - Foundation.exp(input)) / Foundation.exp(input))
            }
        }
        XCTAssertLessThan(worst, 1e-15)
    }

    func testFloatMatchesLibmToFewUlp() {
        var worst: Float = 0
        for i in 0..<20_000 {
            let x = Float(-87 + 175 * Double(i) / 20_000)
            let lanes = Float.exponential(SIMD8(repeating: x))
            worst = max(worst, abs(lanes[3] - Foundation.exp(x)) / Foundation.exp(x))
        }
        XCTAssertLessThan(worst, 4 * Float.ulpOfOne)
    }

    func testVeryNegativeInputsGiveTinyNonNegativeValues() {
        let lanes = Double.exponential(SIMD4(-.infinity, -1e300, -745, 0))
        XCTAssertEqual(lanes[3], 1)
        for lane in 0..<3 { XCTAssertTrue(lanes[lane] >= 0 && lanes[lane] < 1e-300) }
        let floats = Float.exponential(SIMD8(-.infinity, -1e30, -1e6, -100, -.infinity, -1e30, -1e6, -100))
        for lane in 0..<8 { XCTAssertTrue(floats[lane] >= 0 && floats[lane] < 1e-37, "lane \(lane)") }
    }

    /// The C row kernel (the one-pass sum of the log-sum-exps, built for the widest vector
    /// unit here) against a libm sum, over lengths that leave every tail size.
    func testShiftedExponentialSumMatchesLibm() {
        for count in [1, 7, 15, 16, 17, 33, 100, 1_000] {
            let cost = (0..<count).map { Double(($0 * 37) % 101) / 7 }
            let offsets = (0..<count).map { -Double($0 % 5) / 3 }
            let (inverseEpsilon, shift) = (1 / 0.8, -3.25)
            let expected = zip(offsets, cost).reduce(0.0) { $0 + Foundation.exp($1.0 - $1.1 * inverseEpsilon - shift) }
            let double = Double.shiftedExponentialSum(cost: cost, offsets: offsets, count: count,
                                                      inverseEpsilon: inverseEpsilon, shift: shift)
            XCTAssertEqual(double, expected, accuracy: 1e-14 * expected, "Double, \(count) values")
            let (costF, offsetsF) = (cost.map { Float($0) }, offsets.map { Float($0) })
            let expectedF = zip(offsetsF, costF).reduce(0.0) {
                $0 + Foundation.exp(Double($1.0) - Double($1.1) * Double(Float(inverseEpsilon)) - shift)
            }
            let float = Float.shiftedExponentialSum(cost: costF, offsets: offsetsF, count: count,
                                                    inverseEpsilon: Float(inverseEpsilon), shift: Float(shift))
            XCTAssertEqual(Double(float), expectedF, accuracy: 1e-5 * expectedF, "Float, \(count) values")
        }
    }
}
