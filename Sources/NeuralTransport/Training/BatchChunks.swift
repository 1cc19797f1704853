import Dispatch
import LinearAlgebra

/// Data parallelism over a minibatch: the losses are means over rows, so their gradients are
/// sums of per-chunk gradients. Two cores each take half the rows when a half has at least
/// `minimumChunk` rows (smaller products would wait on the thread hand-off longer than they
/// compute).
public enum BatchChunks {
    static let minimumChunk = 64

    /// How many threads a minibatch of `count` rows trains on: 2 from 128 rows, else 1.
    public static func threads(forBatch count: Int) -> Int {
        count >= 2 * minimumChunk ? 2 : 1
    }

    /// `body` on consecutive row ranges of `0..<count` (two when large enough, else one),
    /// concurrently; results in range order.
    static func map<T: Sendable>(count: Int, _ body: @Sendable (Range<Int>) -> T) -> [T] {
        let parts = threads(forBatch: count)
        guard parts > 1 else { return [body(0..<count)] }
        let half = (count + 1) / 2
        let ranges = [0..<half, half..<count]
        var results = [T?](repeating: nil, count: parts)
        results.withUnsafeMutableBufferPointer { buffer in
            let slots = UncheckedSendable(buffer)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                // Each iteration writes only its own slot.
                slots.value[part] = body(ranges[part])
            }
        }
        return results.compactMap { $0 }
    }
}

extension Matrix {
    /// Rows `range` as a new matrix.
    func rows(in range: Range<Int>) -> Matrix {
        rows(at: Array(range))
    }
}
