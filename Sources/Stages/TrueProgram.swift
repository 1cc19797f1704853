import AnnData
import Foundation

/// A drug's known effect on genes (`data.true_programs`): the genes it raises and those it
/// lowers, as a synthetic dataset records them (`perturbot generate scrna-like` writes
/// uns `perturbot_scrna_like/programs/<drug>/up` and `…/down`, comma-separated gene names).
public struct TrueProgram: Sendable, Codable, Equatable {
    public let up: [String]
    public let down: [String]

    public init(up: [String], down: [String]) {
        self.up = up
        self.down = down
    }

    /// The programs under `path` (slash-separated keys into uns): one dictionary per drug with
    /// `up` and/or `down`, each a comma-separated list of var names.
    /// - Throws: `StageError.invalidInput` naming the file and the uns key that is missing or not
    ///   of that form, or the genes that are not var names.
    public static func read(uns: [String: UnsValue], path: String, file: String, varNames: [String]) throws -> [String: TrueProgram] {
        var node = UnsValue.dictionary(uns)
        var walked: [String] = []
        for key in path.split(separator: "/").map(String.init) {
            guard case .dictionary(let entries) = node, let next = entries[key] else {
                let place = walked.isEmpty ? "uns" : "uns/" + walked.joined(separator: "/")
                throw StageError.invalidInput("\(file): data.true_programs: \(place) has no entry '\(key)'")
            }
            walked.append(key)
            node = next
        }
        guard case .dictionary(let drugs) = node, !drugs.isEmpty else {
            throw StageError.invalidInput("\(file): data.true_programs: uns/\(path) is not a dictionary of drugs")
        }
        let known = Set(varNames)
        var programs: [String: TrueProgram] = [:]
        for (drug, entry) in drugs {
            guard case .dictionary(let sides) = entry, sides["up"] != nil || sides["down"] != nil else {
                throw StageError.invalidInput("\(file): data.true_programs: uns/\(path)/\(drug) must hold 'up' and/or 'down' gene lists")
            }
            func genes(_ side: String) throws -> [String] {
                guard let value = sides[side] else { return [] }
                guard case .string(let text) = value else {
                    throw StageError.invalidInput("\(file): data.true_programs: uns/\(path)/\(drug)/\(side) must be a comma-separated string of var names")
                }
                let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                let unknown = names.filter { !known.contains($0) }
                guard unknown.isEmpty else {
                    throw StageError.invalidInput("\(file): data.true_programs: uns/\(path)/\(drug)/\(side) names genes that are not loaded features: \(unknown.prefix(5).joined(separator: ", "))\(unknown.count > 5 ? " (\(unknown.count) in all)" : "")")
                }
                return names
            }
            programs[drug] = TrueProgram(up: try genes("up"), down: try genes("down"))
        }
        return programs
    }

    /// The share of the program's genes that `significant` (gene → sign of its log2 fold change,
    /// for the genes called differentially expressed) finds, each in the program's direction; nil
    /// for an empty program.
    public func recall(significant: [String: Double]) -> Double? {
        let total = up.count + down.count
        guard total > 0 else { return nil }
        let found = up.filter { (significant[$0] ?? 0) > 0 }.count + down.filter { (significant[$0] ?? 0) < 0 }.count
        return Double(found) / Double(total)
    }
}
