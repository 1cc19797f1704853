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

    /// With `holdout`, the test cells are those whose group (one entry per loaded cell) is one of
    /// its values and every other cell trains (an out-of-distribution split); `testFraction` and
    /// `seed` then choose nothing.
    public static func make(
        drug: String, control: [Int], treated: [Int], testFraction: Double, seed: UInt64,
        holdout: (groups: [String?], values: Set<String>)? = nil
    ) throws -> DrugSplit {
        if let holdout {
            func divide(_ cells: [Int], _ what: String) throws -> (train: [Int], test: [Int]) {
                let held = cells.map { holdout.groups[$0].map(holdout.values.contains) ?? false }
                let test = zip(cells, held).filter { $0.1 }.map(\.0), train = zip(cells, held).filter { !$0.1 }.map(\.0)
                guard !test.isEmpty, !train.isEmpty else {
                    throw StageError.invalidInput("out-of-distribution split of '\(drug)': its \(what) cells have \(test.count) held-out and \(train.count) other cells; both need at least one")
                }
                return (train, test)
            }
            let controlParts = try divide(control, "control"), treatedParts = try divide(treated, "treated")
            return DrugSplit(drug: drug, seed: seed, trainControl: controlParts.train, testControl: controlParts.test,
                             trainTreated: treatedParts.train, testTreated: treatedParts.test)
        }
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
    /// Every row the split names, ascending.
    public var allRows: [Int] { Array(Set(trainControl + testControl + trainTreated + testTreated)).sorted() }

    /// The same split over a matrix that holds only `rows` (ascending, containing every row the
    /// split names), in that order: each index becomes its position among `rows`.
    public func restricted(to rows: [Int]) -> DrugSplit {
        let position = Dictionary(uniqueKeysWithValues: rows.enumerated().map { ($1, $0) })
        func map(_ indices: [Int]) -> [Int] { indices.compactMap { position[$0] } }
        return DrugSplit(drug: drug, seed: seed, trainControl: map(trainControl), testControl: map(testControl),
                         trainTreated: map(trainTreated), testTreated: map(testTreated))
    }
}

extension DrugSplit {
    /// The split task's parameters: the value its cache key hashes and the value it runs with.
    public struct Parameters: Sendable, Equatable, Codable {
        public let drug: String
        public let control: String
        public let seed: UInt64
        public let testFraction: Double
        /// The held-out values of the load's holdout column (absent from the JSON without).
        public let holdoutValues: [String]?
        /// The context whose cells (treated and control) the split takes (absent from the JSON
        /// without contexts, so older keys stay); `drug` is then the condition within it.
        public var context: String? = nil

        public init(drug: String, control: String, seed: UInt64, testFraction: Double, holdoutValues: [String]? = nil) {
            self.drug = drug
            self.control = control
            self.seed = seed
            self.testFraction = testFraction
            self.holdoutValues = holdoutValues
        }

        private enum CodingKeys: String, CodingKey {
            case drug, control, seed, context, testFraction = "test_fraction", holdoutValues = "holdout_values"
        }
    }
}
