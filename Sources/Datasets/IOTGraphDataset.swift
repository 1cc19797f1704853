import Foundation
import InverseTransport
import LinearAlgebra
import Transport

/// Observed pairs for seed 004's graph experiment (REFERENCES Part A §3.3): the cost
/// c(x, y) = −xᵀA*y with A* = δI + diag(G1) − G, a shifted graph Laplacian, and pairs drawn from
/// the entropic coupling of two standard Gaussians under that cost, exactly (closed form,
/// `GaussianBilinearPlan`; no Sinkhorn).
public enum IOTGraphDataset {
    public enum Graph: String, Sendable, Codable, CaseIterable {
        /// The cycle on N nodes (degree 2).
        case circular
        /// G(N, p) with p = 3/(N − 1) (mean degree 3), drawn from the seed.
        case erdos_renyi
        /// The ⌈√N⌉-column grid on N nodes (row-major, the last row possibly short): a planar
        /// graph of degree ≤ 4. Seed 004 shows a random planar graph whose construction is not
        /// published; a grid is the planar graph chosen here.
        case planar
    }

    public struct Options: Sendable, Equatable, Codable {
        public var nodes: Int = 10
        public var graph: Graph = .circular
        public var delta: Double = 1
        public var epsilon: Double = 10
        public var pairs: Int = 1000
        /// Seeds the pairs and, for erdos_renyi, the graph (the graph from `seed`, the pairs from
        /// a generator split off after it).
        public var seed: UInt64 = 0

        public init(nodes: Int = 10, graph: Graph = .circular, delta: Double = 1, epsilon: Double = 10,
                    pairs: Int = 1000, seed: UInt64 = 0) {
            self.nodes = nodes
            self.graph = graph
            self.delta = delta
            self.epsilon = epsilon
            self.pairs = pairs
            self.seed = seed
        }

        func validated() throws -> Options {
            guard nodes >= 2 else { throw DatasetError.invalidInput("iot-graph: nodes must be ≥ 2, got \(nodes)") }
            guard delta.isFinite, delta > 0 else { throw DatasetError.invalidInput("iot-graph: delta must be > 0, got \(delta)") }
            guard epsilon.isFinite, epsilon > 0 else { throw DatasetError.invalidInput("iot-graph: epsilon must be > 0, got \(epsilon)") }
            guard pairs >= 2 else { throw DatasetError.invalidInput("iot-graph: pairs must be ≥ 2, got \(pairs)") }
            return self
        }
    }

    /// The adjacency matrix G (symmetric, 0/1, zero diagonal).
    public static func adjacency(_ options: Options) throws -> Matrix<Double> {
        let n = try options.validated().nodes
        var g = Matrix<Double>(rows: n, cols: n)
        func connect(_ i: Int, _ j: Int) {
            guard i != j else { return }
            g[i, j] = 1
            g[j, i] = 1
        }
        switch options.graph {
        case .circular:
            for i in 0..<n { connect(i, (i + 1) % n) }
        case .erdos_renyi:
            var rng = SeededRNG(seed: options.seed)
            let p = Swift.min(1, 3 / Double(n - 1))
            for i in 0..<n { for j in (i + 1)..<n where rng.uniform() < p { connect(i, j) } }
        case .planar:
            let columns = Int(Double(n).squareRoot().rounded(.up))
            for i in 0..<n {
                if (i + 1) % columns != 0, i + 1 < n { connect(i, i + 1) }
                if i + columns < n { connect(i, i + columns) }
            }
        }
        return g
    }

    /// A* = δI + diag(G1) − G.
    public static func interaction(_ options: Options) throws -> Matrix<Double> {
        let g = try adjacency(options)
        let n = g.rows
        var a = Matrix<Double>(rows: n, cols: n)
        for i in 0..<n {
            var degree = 0.0
            for j in 0..<n where g[i, j] != 0 { degree += g[i, j]; a[i, j] = -g[i, j] }
            a[i, i] = options.delta + degree
        }
        return a
    }

    /// A* and `pairs` pairs (x_i, y_i) from its entropic coupling.
    public static func make(_ options: Options) throws -> (interaction: Matrix<Double>, x: Matrix<Double>, y: Matrix<Double>) {
        let checked = try options.validated()
        let truth = try interaction(checked)
        var rng = SeededRNG(seed: checked.seed &+ 0x9E37_79B9_7F4A_7C15)
        let (x, y) = try GaussianBilinearPlan(interaction: truth, epsilon: checked.epsilon).sample(checked.pairs, rng: &rng)
        return (truth, x, y)
    }
}
