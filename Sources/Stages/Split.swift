import LinearAlgebra

/// One drug's train/test split: indices into the rows of the loaded data.
public struct DrugSplit: Sendable, Codable, Equatable {
    public let drug: String
    public let seed: UInt64
    public let trainControl: [Int]
    public let testControl: [Int]
    public let trainTreated: [Int]
    public let testTreated: [Int]

    /// Control cells and this drug's cells are each shuffled with `SeededRNG(seed)` (control
    /// first) and the first round(testFraction·count) go to test; both parts keep at least one
    /// cell. Indices within each part are sorted, so the split is a set, not an order.
    /// How many of `count` cells (at least 2) go to test: round(testFraction·count), at least
    /// one and leaving at least one to fit.
    public static func testCount(of count: Int, testFraction: Double) -> Int {
        Swift.min(count - 1, Swift.max(1, Int((testFraction * Double(count)).rounded())))
    }

    public static func make(
        drug: String, control: [Int], treated: [Int], testFraction: Double, seed: UInt64
    ) throws -> DrugSplit {
        guard testFraction > 0, testFraction < 1 else {
            throw StageError.invalidInput("test fraction must be strictly between 0 and 1, got \(testFraction)")
        }
        guard control.count >= 2 else {
            throw StageError.invalidInput("split of '\(drug)': needs at least 2 control cells, got \(control.count)")
        }
        guard treated.count >= 2 else {
            throw StageError.invalidInput("split of '\(drug)': needs at least 2 treated cells, got \(treated.count)")
        }
        var rng = SeededRNG(seed: seed)
        func divide(_ cells: [Int]) -> (train: [Int], test: [Int]) {
            let order = rng.permutation(cells.count)
            let testCount = Self.testCount(of: cells.count, testFraction: testFraction)
            return (order[testCount...].map { cells[$0] }.sorted(), order[..<testCount].map { cells[$0] }.sorted())
        }
        let controlParts = divide(control), treatedParts = divide(treated)
        return DrugSplit(drug: drug, seed: seed, trainControl: controlParts.train, testControl: controlParts.test,
                         trainTreated: treatedParts.train, testTreated: treatedParts.test)
    }
}

extension DrugSplit {
    /// The split task's parameters: the value its cache key hashes and the value it runs with.
    public struct Parameters: Sendable, Equatable, Codable {
        public let drug: String
        public let control: String
        public let seed: UInt64
        public let testFraction: Double

        public init(drug: String, control: String, seed: UInt64, testFraction: Double) {
            self.drug = drug
            self.control = control
            self.seed = seed
            self.testFraction = testFraction
        }

        private enum CodingKeys: String, CodingKey {
            case drug, control, seed, testFraction = "test_fraction"
        }
    }
}
