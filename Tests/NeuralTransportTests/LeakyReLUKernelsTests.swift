import LinearAlgebra
@testable import NeuralTransport
import XCTest

/// The C activation kernels against their formulas written out here, bit for bit, at lengths
/// that leave every vector tail, with zeros, negative zeros and both signs among the inputs.
final class LeakyReLUKernelsTests: XCTestCase {
    private func check<Scalar: BLASScalar>(_: Scalar.Type) throws {
        var rng = SeededRNG(seed: 5)
        let slope: Scalar = 0.2
        for count in [1, 3, 8, 17, 64, 100] {
            var raw: [Scalar] = (0..<count).map { _ in Scalar(rng.normal()) }
            raw[0] = 0
            if count > 2 { raw[2] = -0.0 }
            let pre = try Matrix(rows: 1, cols: count, storage: raw)
            let values = try Matrix(rows: 1, cols: count, storage: (0..<count).map { _ in Scalar(rng.normal()) })
            let tangent = try Matrix(rows: 1, cols: count, storage: (0..<count).map { _ in Scalar(rng.normal()) })
            func leaky(_ h: Scalar) -> Scalar { h > 0 ? h : slope * h }
            func unit(_ h: Scalar) -> Scalar { h > 0 ? 1 : slope }
            for squared in [false, true] {
                let activated = LeakyReLUKernels.activation(pre, slope: slope, squared: squared)
                XCTAssertEqual(activated.storage, raw.map { squared ? leaky($0) * leaky($0) : leaky($0) })
                let chained = LeakyReLUKernels.chain(values, pre: pre, slope: slope, squared: squared)
                XCTAssertEqual(chained.storage, zip(values.storage, raw).map { v, h in v * (squared ? 2 * leaky(h) * unit(h) : unit(h)) })
            }
            let curved = LeakyReLUKernels.squareCurvature(values, tangent: tangent, pre: pre, slope: slope)
            XCTAssertEqual(curved.storage, (0..<count).map { i in values.storage[i] * tangent.storage[i] * 2 * unit(raw[i]) * unit(raw[i]) })
        }
    }

    func testKernelsMatchTheirFormulasToTheBit() throws {
        try check(Float.self)
        try check(Double.self)
    }
}
