import AnnData
import Foundation
import Stages

/// The data checks of a screen's conditions: several condition columns (`condition_key:
/// [drug, dose]`) and contexts (`context_key: cell_line`), which need the cells' values rather
/// than one column's categories.
extension DataCheck {
    /// The cells' conditions and contexts as the load stage will label them.
    /// - Throws: `PipelineSpecError` naming the key's line: a missing column, two value tuples
    ///   that make one label, a value containing `/` with contexts.
    public static func conditionTable(_ spec: PipelineSpec, dataPath: String, pipelineFile: String) throws -> ConditionTable {
        let data: AnnData<Float>
        do {
            data = try AnnDataReader.readAnnotations(dataPath)
        } catch {
            throw PipelineSpecError(file: pipelineFile, issues: [SpecIssue("data.path: \(error)", at: spec.data.path.location)])
        }
        let columns = data.obs.columnNames
        let keys = spec.data.conditionKeys.map { ($0, "data.condition_key") } + (spec.data.contextKey.map { [($0, "data.context_key")] } ?? [])
        let missing = keys.filter { !columns.contains($0.0.value) }
        guard missing.isEmpty else {
            throw PipelineSpecError(file: pipelineFile, issues: missing.map { key, field in
                SpecIssue("\(field): no obs column '\(key.value)' in the data (obs has: \(columns.isEmpty ? "nothing" : columns.joined(separator: ", ")))",
                          at: key.location)
            })
        }
        do {
            return try ConditionTable.read(data, conditionKeys: spec.data.conditionKeys.map(\.value),
                                           contextKey: spec.data.contextKey?.value, control: spec.data.control.value)
        } catch {
            throw PipelineSpecError(file: pipelineFile, issues: [SpecIssue("data.condition_key: \(dataPath): \(error)", at: spec.data.conditionKey.location)])
        }
    }

    /// The condition checks of a screen, and what the shared checks need: cells per problem id
    /// (a context's control cells under `<context>/<control>`), the selected problems, and the
    /// number of cells the PCA is fitted on.
    static func compositeIssues(_ spec: PipelineSpec, conditions: ConditionTable)
        -> (issues: [SpecIssue], counts: [String: Int], selected: [String], fittedCells: Int) {
        var found: [SpecIssue] = []
        let control = spec.data.control
        let firstColumn = spec.data.conditionKey.value
        let counts = conditions.counts()
        let problems = conditions.problems(control: control.value)
        let contexts = spec.data.contextKey != nil
        func controlID(_ context: String?) -> String { ConditionTable.problemID(context: context, condition: control.value) }
        func examples(_ values: [String]) -> String {
            values.prefix(8).joined(separator: ", ") + (values.count > 8 ? ", … (\(values.count) in all)" : "")
        }
        let hasControl = conditions.conditions.contains(control.value)
        if !hasControl {
            let values = unique(conditions.conditions.compactMap { $0 })
            found.append(SpecIssue("data.control: no cells with obs '\(firstColumn)' = '\(control.value)' (conditions: \(examples(values)))",
                                   at: control.location))
        }
        var selected: [String] = []
        switch spec.drugs {
        case .all:
            selected = problems
            if problems.isEmpty {
                found.append(SpecIssue("drugs: 'all' but the data has no condition besides the control", at: spec.data.conditionKey.location))
            }
        case .list(let drugs):
            for drug in drugs {
                if drug.value == control.value {
                    found.append(SpecIssue("drugs: '\(drug.value)' is the control", at: drug.location))
                    continue
                }
                let matching = contexts && !drug.value.contains(ConditionTable.contextSeparator)
                    ? problems.filter { ConditionTable.parts(of: $0).condition == drug.value }
                    : problems.filter { $0 == drug.value }
                if matching.isEmpty {
                    let form = contexts ? "a condition (as \(problems.first.map { ConditionTable.parts(of: $0).condition } ?? "drug_dose")) or a context/condition"
                        : "a condition"
                    found.append(SpecIssue("drugs: no cells of '\(drug.value)'; expected \(form) of the data (\(examples(problems)))", at: drug.location))
                }
                selected += matching
            }
            selected = unique(selected)
        }
        // Each context of the run needs its own control cells, two at least (one to fit, one to test).
        let runContexts = unique(selected.map { ConditionTable.parts(of: $0).context ?? "" })
        if contexts, let contextKey = spec.data.contextKey, hasControl {
            for context in runContexts where (counts[controlID(context)] ?? 0) < 2 {
                found.append(SpecIssue("data.control: context '\(context)' (obs '\(contextKey.value)') has \(counts[controlID(context)] ?? 0) control cells ('\(firstColumn)' = '\(control.value)'); each context needs at least 2",
                                       at: contextKey.location))
            }
        }
        for id in selected where counts[id] == 1 {
            found.append(SpecIssue("split: '\(id)' has 1 cell; a split needs at least 2 of each condition (one to fit, one to test)",
                                   at: spec.data.conditionKey.location))
        }
        let fittedCells = (contexts ? runContexts.map(controlID) : [control.value]).reduce(0) { $0 + (counts[$1] ?? 0) }
            + selected.reduce(0) { $0 + (counts[$1] ?? 0) }
        return (found, counts, selected, fittedCells)
    }
}
