import LinearAlgebra

/// The persistent Langevin chains of energy-guided EOT training (the authors'
/// `SampleBufferEgEOT`): a first-in first-out store of at most `capacity` (x, y) pairs, each a
/// chain's end y with the source point x it was conditioned on. Training restarts most chains
/// from here, so short runs of K steps add up to long ones.
struct ChainReplayBuffer<Scalar: BLASScalar>: Sendable {
    let capacity: Int
    let dimension: Int
    private var sources: [Scalar] = []
    private var chains: [Scalar] = []
    /// The slot the next pushed pair overwrites once the buffer is full.
    private var oldest = 0

    init(capacity: Int, dimension: Int) {
        precondition(capacity > 0 && dimension > 0)
        self.capacity = capacity
        self.dimension = dimension
    }

    var count: Int { sources.count / dimension }

    /// Stores every row pair, evicting the oldest pairs beyond `capacity`.
    mutating func push(sources x: Matrix<Scalar>, chains y: Matrix<Scalar>) {
        precondition(x.rows == y.rows && x.cols == dimension && y.cols == dimension)
        for i in 0..<x.rows {
            if count < capacity {
                sources.append(contentsOf: x.row(i))
                chains.append(contentsOf: y.row(i))
            } else {
                let start = oldest * dimension
                sources.replaceSubrange(start..<(start + dimension), with: x.row(i))
                chains.replaceSubrange(start..<(start + dimension), with: y.row(i))
                oldest = (oldest + 1) % capacity
            }
        }
    }

    /// Pair `index` (0 ..< count).
    func pair(_ index: Int) -> (source: ArraySlice<Scalar>, chain: ArraySlice<Scalar>) {
        let start = index * dimension
        return (sources[start..<(start + dimension)], chains[start..<(start + dimension)])
    }
}
