import Dispatch

/// A value carried into a `concurrentPerform` worker although its type is not `Sendable`.
///
/// Used for raw buffer pointers whose workers write disjoint ranges; the caller is responsible
/// for that disjointness, which is why this wrapper is explicit at each use.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}

/// Splits `0..<count` into at most `maxBlocks` contiguous ranges of at least `minimumBlock`
/// elements and runs `body` on each, concurrently (Dispatch `concurrentPerform`).
public func parallelForRanges(
    count: Int, minimumBlock: Int = 1, maxBlocks: Int = 64,
    _ body: @Sendable (Range<Int>) -> Void
) {
    guard count > 0 else { return }
    let blocks = Swift.max(1, Swift.min(maxBlocks, count / Swift.max(1, minimumBlock)))
    let per = (count + blocks - 1) / blocks
    if blocks == 1 {
        body(0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: blocks) { block in
        let start = block * per
        let end = Swift.min(count, start + per)
        if start < end { body(start..<end) }
    }
}
