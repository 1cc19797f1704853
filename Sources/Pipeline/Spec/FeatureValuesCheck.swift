import AnnData
import LinearAlgebra
import Stages

/// The checks of `perturbot validate` that read the data file's values (the other data checks
/// need only the file's summary): NaN or infinite values, which stop the load stage, and
/// constant features, which carry no signal (all of them constant leaves nothing to transport);
/// with the file read, the split notes of `DataCheck.splitNotes` come from its condition column.
public enum FeatureValuesCheck {
    /// What the values say: problems (`validate` fails) and notes (printed; it still passes).
    public struct Findings: Sendable {
        public var issues: [SpecIssue] = []
        public var notes: [SpecIssue] = []
    }

    /// Reads each feature set of `spec` from `dataPath` and checks its values over every cell.
    public static func check(_ spec: PipelineSpec, dataPath: String) throws -> Findings {
        var findings = Findings()
        let data = try AnnDataReader.read(dataPath, as: Double.self, sparse: .keep,
                                          requireX: spec.data.featureSets.contains { $0.value == "X" })
        // (A screen's conditions are tuples within contexts: its thousands of small splits get no notes.)
        if !spec.data.hasCompositeConditions, case .categorical(let labels)? = data.obs[spec.data.conditionKey.value] {
            let counts = Dictionary(zip(labels.categories, labels.counts).map { ($0, $1) }, uniquingKeysWith: +)
            findings.notes += DataCheck.splitNotes(spec, labelCounts: counts)
        }
        for features in spec.data.featureSets {
            let matrix: AnnMatrix<Double>
            let names: [String]
            if features.value == "X", let x = data.X {
                matrix = x
                names = data.var.index
            } else if let entry = data.obsm[features.value] {
                matrix = .dense(entry)
                names = (0..<entry.cols).map { "\(features.value)_\($0 + 1)" }
            } else {
                continue  // DataCheck.issues already named the missing feature set
            }
            let columns = FeatureValueStatistics(matrix)
            let label = features.value == "X" ? "X" : "obsm '\(features.value)'"
            let nonFinite = columns.nonFinite.enumerated().filter { $0.element > 0 }
            if !nonFinite.isEmpty {
                let total = nonFinite.reduce(0) { $0 + $1.element }
                findings.issues.append(SpecIssue(
                    "data.features: \(label) has \(total) NaN or infinite value\(total == 1 ? "" : "s") in \(nonFinite.count) feature\(nonFinite.count == 1 ? "" : "s") ("
                        + listed(nonFinite.map { "\(names[$0.offset]): \($0.element)" }) + "); the load stage refuses them",
                    at: features.location))
                continue
            }
            // The scale after the load's transform: log1p shrinks counts to a safe range.
            if spec.data.transform == .none,
               let problem = FeatureScale.problem(minimum: columns.minimum, maximum: columns.maximum, names: names) {
                findings.issues.append(SpecIssue("data.features: \(label): \(problem)", at: features.location))
                continue
            }
            let constant = columns.constantColumns
            guard !constant.isEmpty, matrix.rows > 1 else { continue }
            if constant.count == matrix.cols {
                findings.issues.append(SpecIssue(
                    "data.features: all \(matrix.cols) features of \(label) are constant over the \(matrix.rows) cells; every cell is the same point, so there is nothing to transport",
                    at: features.location))
            } else {
                findings.notes.append(SpecIssue(
                    "note: data.features: \(label) has \(constant.count) constant feature\(constant.count == 1 ? "" : "s") ("
                        + listed(constant.map { names[$0] }) + "); they carry no signal", at: features.location))
            }
        }
        return findings
    }

    private static func listed(_ items: [String], limit: Int = 5) -> String {
        items.count <= limit ? items.joined(separator: ", ")
            : items.prefix(limit).joined(separator: ", ") + ", … \(items.count - limit) more"
    }
}

/// Per column: how many values are NaN or infinite, and whether all values are equal.
private struct FeatureValueStatistics {
    var nonFinite: [Int]
    private(set) var minimum: [Double]
    private(set) var maximum: [Double]

    init(_ matrix: AnnMatrix<Double>) {
        let cols = matrix.cols
        nonFinite = [Int](repeating: 0, count: cols)
        minimum = [Double](repeating: .infinity, count: cols)
        maximum = [Double](repeating: -.infinity, count: cols)
        switch matrix {
        case .dense(let dense):
            for i in 0..<dense.rows {
                for (j, value) in dense.row(i).enumerated() { observe(value, column: j) }
            }
        case .sparse(let sparse):
            var stored = [Int](repeating: 0, count: cols)
            let major = sparse.format == .csr ? sparse.rows : sparse.cols
            for outer in 0..<major {
                for k in sparse.indptr[outer]..<sparse.indptr[outer + 1] {
                    let column = sparse.format == .csr ? Int(sparse.indices[k]) : outer
                    stored[column] += 1
                    observe(sparse.data[k], column: column)
                }
            }
            // Entries not stored are zeros.
            for j in 0..<cols where stored[j] < sparse.rows { observe(0, column: j) }
        }
    }

    private mutating func observe(_ value: Double, column: Int) {
        guard value.isFinite else { nonFinite[column] += 1; return }
        minimum[column] = Swift.min(minimum[column], value)
        maximum[column] = Swift.max(maximum[column], value)
    }

    var constantColumns: [Int] {
        minimum.indices.filter { minimum[$0] == maximum[$0] }
    }
}
