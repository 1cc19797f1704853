import LinearAlgebra
@testable import NeuralTransport
import XCTest

/// The C kernel behind `Adam` against its Swift definition, bit for bit, and a network updated
/// in place block by block against the same steps on its flat parameter vector.
final class AdamTests: XCTestCase {
    private func randomVector<Scalar: BLASScalar>(_ count: Int, scale: Double, _ rng: inout SeededRNG) -> [Scalar] {
        (0..<count).map { _ in Scalar(scale * rng.normal()) }
    }

    private func checkKernelMatchesReference<Scalar: BLASScalar>(_: Scalar.Type) {
        var rng = SeededRNG(seed: 11)
        // Odd lengths exercise every vector tail; gradients span many magnitudes.
        for count in [1, 7, 16, 33, 1000, 4099] {
            var kernel = Adam<Scalar>(learningRate: 1e-3, beta1: 0.9, beta2: 0.999)
            var parameters: [Scalar] = randomVector(count, scale: 0.1, &rng)
            var reference = parameters
            var (first, second) = ([Double](repeating: 0, count: count), [Double](repeating: 0, count: count))
            var (power1, power2) = (1.0, 1.0)
            for step in 0..<5 {
                let gradient: [Scalar] = (0..<count).map { i in Scalar(rng.normal() * pow(10, Double((i + step) % 9) - 6)) }
                kernel.step(&parameters, gradient: gradient)
                power1 *= 0.9
                power2 *= 0.999
                reference.withUnsafeMutableBufferPointer { p in
                    gradient.withUnsafeBufferPointer { g in
                        first.withUnsafeMutableBufferPointer { m in
                            second.withUnsafeMutableBufferPointer { v in
                                Adam<Scalar>.referenceStep(p.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!, count: count,
                                                           beta1: 0.9, beta2: 0.999, learningRate: 1e-3,
                                                           corrections: (1 - power1, 1 - power2), epsilon: 1e-8)
                            }
                        }
                    }
                }
                XCTAssertEqual(parameters, reference, "\(Scalar.self), \(count) parameters, step \(step)")
            }
        }
    }

    func testKernelMatchesTheSwiftDefinitionToTheBit() {
        checkKernelMatchesReference(Float.self)
        checkKernelMatchesReference(Double.self)
    }

    func testInPlaceNetworkUpdateEqualsTheFlatStep() {
        var rng = SeededRNG(seed: 3)
        var network = ICNN<Float>(inputDimension: 5, hiddenUnits: [7, 6], rng: &rng)
        var flat = network.flatParameters
        var inPlace = Adam<Float>(), onCopy = Adam<Float>()
        for _ in 0..<3 {
            let gradient: [Float] = randomVector(flat.count, scale: 1, &rng)
            inPlace.update(&network, gradient: gradient)
            onCopy.step(&flat, gradient: gradient)
            XCTAssertEqual(network.flatParameters, flat)
        }
    }
}
