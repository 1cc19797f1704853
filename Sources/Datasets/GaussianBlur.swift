import Foundation
import LinearAlgebra

/// Gaussian blur of images stored one per row (row-major pixels), as
/// `scipy.ndimage.gaussian_filter(image, sigma, mode="reflect", truncate=4.0)`: a normalised
/// 1-D kernel exp(−k²/2σ²), |k| ≤ ⌊4σ + ½⌋, applied along the rows and then the columns, the
/// image extended by mirror reflection about its edges (… c b a | a b c … | … c b a).
public struct GaussianBlur: Sendable, Equatable {
    public let sigma: Double
    public let height: Int
    public let width: Int
    /// scipy's default `truncate`: the kernel's radius in standard deviations.
    public static let truncate = 4.0

    /// - Throws: `DatasetError.invalidInput` for a σ that is not positive or an empty image shape.
    public init(sigma: Double, height: Int, width: Int) throws {
        guard sigma.isFinite, sigma > 0 else { throw DatasetError.invalidInput("blur σ must be a positive number, got \(sigma)") }
        guard height >= 1, width >= 1 else {
            throw DatasetError.invalidInput("image shape must be at least 1 × 1, got \(height) × \(width)")
        }
        self.sigma = sigma
        self.height = height
        self.width = width
    }

    /// The kernel weights for offsets −r … r.
    var kernel: [Double] {
        let radius = Int(Self.truncate * sigma + 0.5)
        let weights = (-radius...radius).map { Foundation.exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let total = weights.reduce(0, +)
        return weights.map { $0 / total }
    }

    /// Index i of a line of `count` pixels extended by reflection (period 2·count).
    static func reflect(_ i: Int, count: Int) -> Int {
        let period = 2 * count
        var wrapped = i % period
        if wrapped < 0 { wrapped += period }
        return wrapped < count ? wrapped : period - 1 - wrapped
    }

    /// Every row of `images` (height·width pixels each) blurred.
    /// - Throws: `DatasetError.invalidInput` when a row does not hold height × width pixels.
    public func apply(_ images: Matrix<Double>) throws -> Matrix<Double> {
        guard images.cols == height * width else {
            throw DatasetError.invalidInput("images have \(images.cols) pixels each, expected \(height) × \(width) = \(height * width)")
        }
        let weights = kernel, radius = weights.count / 2
        var result = Matrix<Double>(rows: images.rows, cols: images.cols)
        var along = [Double](repeating: 0, count: height * width)
        for image in 0..<images.rows {
            // Along each row (axis 1) of the image, then along each column (axis 0); the
            // passes commute, so the order only matters to rounding.
            for r in 0..<height {
                for c in 0..<width {
                    var sum = 0.0
                    for (k, weight) in weights.enumerated() {
                        sum += weight * images[image, r * width + Self.reflect(c + k - radius, count: width)]
                    }
                    along[r * width + c] = sum
                }
            }
            for r in 0..<height {
                for c in 0..<width {
                    var sum = 0.0
                    for (k, weight) in weights.enumerated() {
                        sum += weight * along[Self.reflect(r + k - radius, count: height) * width + c]
                    }
                    result[image, r * width + c] = sum
                }
            }
        }
        return result
    }
}
