import Foundation

/// Arrays of hundreds of megabytes (a dense 200k × 2k expression matrix is 1.6 GB) spend most
/// of their creation time in page faults. These helpers ask the kernel for transparent huge
/// pages on the buffer (`madvise(MADV_HUGEPAGE)`; a no-op where THP is off), and `zeroed`
/// touches it from both cores. Below `hugePageThreshold` bytes no advice is given.
public enum LargeArrays {
    /// Buffers smaller than this (in bytes) are created the ordinary way.
    public static let hugePageThreshold = 1 << 24

    /// An array of `count` elements whose storage `body` must initialise completely.
    public static func make<Element>(
        count: Int, initializingWith body: (UnsafeMutableBufferPointer<Element>) throws -> Void
    ) rethrows -> [Element] {
        try [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            adviseHugePages(UnsafeMutableRawBufferPointer(buffer))
            try body(UnsafeMutableBufferPointer(rebasing: buffer[0..<count]))
            initialized = count
        }
    }

    /// `count` elements whose bytes are all zero (0.0 for floating point), zeroed with
    /// `memset` in parallel blocks. Works on raw bytes so the cost does not depend on whether
    /// the caller's generic code was specialised.
    public static func zeroed<Element: BitwiseCopyable>(count: Int, as _: Element.Type = Element.self) -> [Element] {
        make(count: count) { (buffer: UnsafeMutableBufferPointer<Element>) in
            zero(UnsafeMutableRawBufferPointer(buffer))
        }
    }

    /// Sets every byte of `bytes` to zero, in parallel blocks.
    public static func zero(_ bytes: UnsafeMutableRawBufferPointer) {
        let shared = UncheckedSendable(bytes)
        parallelForRanges(count: bytes.count, minimumBlock: 1 << 22) { range in
            if let base = shared.value.baseAddress { memset(base + range.lowerBound, 0, range.count) }
        }
    }

    private static func adviseHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count >= hugePageThreshold, let base = buffer.baseAddress else { return }
        let hugePage = UInt(1 << 21)
        let start = (UInt(bitPattern: base) + hugePage - 1) & ~(hugePage - 1)
        let end = (UInt(bitPattern: base) + UInt(buffer.count)) & ~(hugePage - 1)
        guard end > start, let alignedStart = UnsafeMutableRawPointer(bitPattern: start) else { return }
        // Advice only: failure (no THP support) leaves ordinary pages, which is still correct.
        _ = madvise(alignedStart, Int(end - start), Int32(MADV_HUGEPAGE))
    }
}
