import Datasets
import Foundation
import LinearAlgebra
import Stages
import TestSupport
import XCTest

/// GaussianBlur against scipy.ndimage.gaussian_filter (reflect, truncate 4) on three digits at
/// σ ∈ {0.5, 1, 2} (scripts/fixtures/make_digits_fixture.py), and data/digits.csv's shape.
final class GaussianBlurFixtureTests: XCTestCase {
    func testBlurMatchesScipy() throws {
        let url = TestPaths.repository.appendingPathComponent("Tests/Fixtures/blur/gaussian_blur.json")
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 9)
        for entry in cases {
            let sigma = try XCTUnwrap(entry["sigma"] as? Double)
            let input = try XCTUnwrap(entry["input"] as? [Double]), expected = try XCTUnwrap(entry["blurred"] as? [Double])
            let blurred = try GaussianBlur(sigma: sigma, height: 8, width: 8).apply(Matrix(rows: 1, cols: 64, storage: input))
            for (value, reference) in zip(blurred.storage, expected) {
                XCTAssertEqual(value, reference, accuracy: 1e-12, "σ = \(sigma), image \(entry["image_index"] ?? "?")")
            }
        }
    }

    func testDigitsFileHoldsTheBundledImages() throws {
        let digits = try TestPaths.numericCSV(TestPaths.repository.appendingPathComponent("data/digits.csv"))
        XCTAssertEqual(digits.count, 1797)
        XCTAssertTrue(digits.allSatisfy { $0.count == 64 && $0.allSatisfy { $0 >= 0 && $0 <= 16 && $0 == $0.rounded() } })
    }
}
