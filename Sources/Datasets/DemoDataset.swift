import AnnData
import Foundation
import LinearAlgebra

/// A synthetic 4i-shaped dataset: the bundled demo of the pipeline, small enough to commit.
///
/// 48 features named like 4i measurements (24 markers × nucleus/cytoplasm), control cells drawn
/// from three cell states, and five drugs (those of the ProgOT paper's 4i table), each moving
/// cells by its own non-linear displacement of 6 of the 48 features: the displacement of a
/// cell depends on where the cell is (through a drug-specific projection s of the cell), so no
/// translation explains it. Treated cells are fresh control-law cells pushed through the
/// drug's map, so the true map is known (`displacement`). Seeded: same seed, same file.
public enum DemoDataset {
    public static let markers = [
        "Ki67", "pRB", "CyclinB1", "CyclinE", "p21", "p53", "pSTAT3", "ClCasp3", "gH2AX", "pERK",
        "pMEK", "pS6", "pAKT", "pEGFR", "Vimentin", "ECadherin", "CD44", "Actin", "Tubulin", "DAPI",
        "pH3", "LaminB1", "YAP", "NFkB",
    ]
    public static let compartments = ["nuclei", "cytoplasm"]
    public static let drugs = ["cisplatin", "ixazomib", "melphalan", "sorafenib", "hesperadin"]
    public static var featureNames: [String] { compartments.flatMap { c in markers.map { "\($0)_\(c)" } } }
    static let movedPerDrug = 6
    static let latentDimension = 4

    /// The names of the three cell states (obs `cell_state` when the state proportions change).
    public static let stateNames = ["state1", "state2", "state3"]

    public struct Options: Sendable {
        public var seed: UInt64
        public var controlCells: Int
        public var cellsPerDrug: Int
        /// Death and growth by drug and state; empty: every drug keeps the control's state
        /// proportions (the bundled demo).
        public var massChanges: [MassChange]
        /// The control law's state proportions (equal).
        static let proportions = [Double](repeating: 1.0 / 3, count: 3)

        public init(seed: UInt64 = 0, controlCells: Int = 1500, cellsPerDrug: Int = 600, massChanges: [MassChange] = []) {
            self.seed = seed
            self.controlCells = controlCells
            self.cellsPerDrug = cellsPerDrug
            self.massChanges = massChanges
        }

        func factors(drug: String) -> [Double] { MassChange.factors(massChanges, drug: drug, states: DemoDataset.stateNames) }
    }

    /// The law of the data: loadings, cell-state centres, and each drug's moved features,
    /// projection and amplitudes, all drawn from the seed.
    public struct Law: Sendable {
        let loadings: Matrix<Double>  // 48 × latent
        let centres: [[Double]]  // cell states in latent space
        public let movedFeatures: [[Int]]  // per drug
        let directions: [[Double]]  // per drug, unit vectors in feature space
        let amplitudes: [[Double]]  // per drug, one per moved feature

        public init(seed: UInt64) {
            var rng = SeededRNG(seed: seed ^ 0xD3_4D_A7A5)
            let d = DemoDataset.featureNames.count
            loadings = Matrix(rows: d, cols: latentDimension) { _, _ in 0.6 * rng.normal() }
            centres = (0..<3).map { _ in (0..<latentDimension).map { _ in 1.5 * rng.normal() } }
            var moved: [[Int]] = [], directions: [[Double]] = [], amplitudes: [[Double]] = []
            for _ in DemoDataset.drugs {
                moved.append(Array(rng.permutation(d).prefix(movedPerDrug)).sorted())
                let raw = (0..<d).map { _ in rng.normal() }
                let norm = raw.reduce(0) { $0 + $1 * $1 }.squareRoot()
                directions.append(raw.map { $0 / norm })
                amplitudes.append((0..<movedPerDrug).map { _ in (1.2 + 1.2 * rng.uniform()) * (rng.uniform() < 0.5 ? -1 : 1) })
            }
            movedFeatures = moved
            self.directions = directions
            self.amplitudes = amplitudes
        }

        /// One control-law cell, of `state` when given (else a uniform draw), and its state.
        func controlCell(_ rng: inout SeededRNG, state given: Int? = nil) -> (cell: [Double], state: Int) {
            let state = given ?? rng.bounded(centres.count)
            let z = centres[state].map { $0 + 0.7 * rng.normal() }
            let cell = (0..<loadings.rows).map { j in
                2 + (0..<latentDimension).reduce(0.0) { $0 + loadings[j, $1] * z[$1] } + 0.3 * rng.normal()
            }
            return (cell, state)
        }

        /// The displacement drug `index` applies to `cell`: non-zero on its moved features only.
        public func displacement(drug index: Int, cell: [Double]) -> [Double] {
            let s = zip(directions[index], cell).reduce(0.0) { $0 + $1.0 * ($1.1 - 2) } / 2
            let shape: Double
            // Shapes that vary strongly across cells (some change sign), so that no translation
            // explains a drug: the point of an OT map over the mean shift.
            switch index % 5 {
            case 0: shape = 1.5 * tanh(2 * s) + 0.5
            case 1: shape = s * s - 0.2
            case 2: shape = 1.5 * sin(2 * s) + 0.3
            case 3: shape = log1p(exp(3 * s)) - 0.3
            default: shape = 2 * exp(-s * s) - 0.5
            }
            var result = [Double](repeating: 0, count: cell.count)
            for (k, feature) in movedFeatures[index].enumerated() { result[feature] = amplitudes[index][k] * shape }
            return result
        }
    }

    /// With `massChanges`, a treated cell's state is drawn with weights proportional to the
    /// states' factors (a killed state is rarer among the treated cells, a growing one commoner),
    /// obs `cell_state` records each cell's state and uns `perturbot_demo/mass` the truth: per
    /// drug and state the factor and the retained mass a perfect unbalanced map would show.
    /// Without, the file is the bundled demo's, byte for byte.
    public static func make(_ options: Options = Options()) throws -> AnnData<Float> {
        guard options.controlCells >= 2, options.cellsPerDrug >= 2 else {
            throw DatasetError.invalidInput("the demo needs at least 2 control cells and 2 cells per drug")
        }
        try MassChange.validate(options.massChanges, drugs: drugs, states: stateNames)
        let law = Law(seed: options.seed)
        var rng = SeededRNG(seed: options.seed)
        var rows: [[Double]] = []
        var labels: [String] = []
        var states: [Int] = []
        for _ in 0..<options.controlCells {
            let drawn = law.controlCell(&rng)
            rows.append(drawn.cell)
            states.append(drawn.state)
            labels.append("control")
        }
        for (index, drug) in drugs.enumerated() {
            let weights = zip(Options.proportions, options.factors(drug: drug)).map { $0 * $1 }
            for _ in 0..<options.cellsPerDrug {
                let state = options.massChanges.isEmpty ? nil : MassChange.draw(weights, &rng)
                let drawn = law.controlCell(&rng, state: state)
                let moved = zip(drawn.cell, law.displacement(drug: index, cell: drawn.cell)).map { $0 + $1 }
                rows.append(moved.map { $0 + 0.05 * rng.normal() })
                states.append(drawn.state)
                labels.append(drug)
            }
        }
        let x = Matrix<Float>(rows: rows.count, cols: featureNames.count) { i, j in Float(rows[i][j]) }
        var obs = DataFrame(index: (0..<rows.count).map { "cell\($0)" })
        let categorical = try Categorical(categories: ["control"] + drugs,
                                          codes: labels.map { Int32((["control"] + drugs).firstIndex(of: $0) ?? -1) })
        try obs.setColumn("drug", .categorical(categorical))
        var moved: [String: UnsValue] = [:]
        for (index, drug) in drugs.enumerated() {
            moved[drug] = .string(law.movedFeatures[index].map { featureNames[$0] }.joined(separator: ","))
        }
        var record: [String: UnsValue] = [
            "generator": .string("perturbot generate 4i-like"),
            "seed": .integer(Int64(options.seed)),
            "moved_features": .dictionary(moved),
        ]
        if !options.massChanges.isEmpty {
            try obs.setColumn("cell_state", .categorical(try Categorical(categories: stateNames, codes: states.map { Int32($0) })))
            let mass = MassChange.truth(options.massChanges, drugs: drugs, states: stateNames, proportions: Options.proportions)
            record["mass"] = .dictionary(mass)
        }
        return AnnData(X: .dense(x), obs: obs, var: DataFrame(index: featureNames), uns: ["perturbot_demo": .dictionary(record)])
    }
}
