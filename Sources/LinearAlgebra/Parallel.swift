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

/// A value computed on a background thread, started at creation and collected with `wait()`.
///
/// For overlapping independent work with I/O that must stay on the calling thread (HDF5 is
/// not thread-safe): e.g. zero-filling a large output while the input is still being read.
public final class BackgroundResult<Value: Sendable>: @unchecked Sendable {
    private let group = DispatchGroup()
    // Written once by the worker before `group.leave()`, read only after `group.wait()`.
    private var value: Value?

    public init(_ work: @escaping @Sendable () -> Value) {
        group.enter()
        DispatchQueue.global(qos: .userInitiated).async {
            self.value = work()
            self.group.leave()
        }
    }

    /// Blocks until the value is ready and hands it over; call once. The result keeps no
    /// reference, so a large array comes back uniquely owned (mutating it does not copy).
    public func take() -> Value {
        group.wait()
        guard let value else { preconditionFailure("BackgroundResult.take() called twice") }
        self.value = nil
        return value
    }
}
