import LinearAlgebra

/// The equal-sized samples behind the noise ceiling and the normalised score of one split: the
/// held-out treated cells cut in two seeded halves A and B, and a seeded subset S of the held-out
/// control cells as large as A. Every reference and every method is then scored against B from a
/// sample of |A| cells — A itself (the noise ceiling: a second sample of the treated cells), S
/// unmoved, and T̂(S) — so the metrics' sample-size bias is the same for all three.
public struct HalfSample: Sendable, Equatable {
    /// Positions in `split.testTreated`.
    public let first: [Int]
    public let second: [Int]
    /// Positions in `split.testControl`.
    public let control: [Int]

    /// Nil with fewer than 4 held-out treated cells (halves of at least 2).
    public init?(_ split: DrugSplit) {
        guard split.testTreated.count >= 4 else { return nil }
        var rng = SeededRNG(seed: split.seed ^ 0x5EED_CE11)
        let order = rng.permutation(split.testTreated.count)
        let half = split.testTreated.count / 2
        first = Array(order[..<half]).sorted()
        second = Array(order[half...]).sorted()
        control = Array(rng.permutation(split.testControl.count).prefix(half)).sorted()
    }
}



