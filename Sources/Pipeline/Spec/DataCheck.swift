import AnnData
import Foundation
import Stages

/// The checks of a pipeline file that need its data file: the condition column, the control
/// label, each drug, the features, PCA sizes against the feature count, and the true maps'
/// shapes.
public enum DataCheck {
    /// The data path as the runner will open it: relative paths start at the pipeline file's folder.
    public static func resolvedDataPath(_ spec: PipelineSpec, pipelineFile: String) -> String {
        let path = spec.data.path.value
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: pipelineFile).deletingLastPathComponent().appendingPathComponent(path).path
    }

    /// The var names `data.var_names` lists (blank lines and surrounding spaces dropped).
    public static func varNames(_ spec: PipelineSpec, pipelineFile: String) throws -> [String]? {
        guard let entry = spec.data.varNames else { return nil }
        let path = entry.value.hasPrefix("/") ? entry.value
            : URL(fileURLWithPath: pipelineFile).deletingLastPathComponent().appendingPathComponent(entry.value).path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PipelineSpecError(file: pipelineFile, issues: [SpecIssue("data.var_names: cannot read \(path)", at: entry.location)])
        }
        let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else {
            throw PipelineSpecError(file: pipelineFile, issues: [SpecIssue("data.var_names: \(path) lists no names", at: entry.location)])
        }
        return names
    }

    /// The number of columns of feature set `features` (`X`, or an obsm key) in the data; nil when
    /// the data has no such entry.
    public static func featureCount(_ features: String, in summary: AnnDataSummary, varNameCount: Int? = nil) -> Int? {
        if features == "X" { return varNameCount ?? summary.nVars }
        guard let entry = summary.obsm.first(where: { $0.key == features }) else { return nil }
        return entry.shape.count == 2 ? entry.shape[1] : 0
    }

    /// Every mismatch between `spec` and the summary of its data file (`varNameCount`: how many
    /// columns `data.var_names` keeps, when given).
    /// With `conditions` (the cells' conditions and contexts, `conditionTable`), the condition
    /// checks are a screen's (`compositeIssues`); without, one categorical column's.
    public static func issues(_ spec: PipelineSpec, against summary: AnnDataSummary, varNameCount: Int? = nil,
                              conditions: ConditionTable? = nil) -> [SpecIssue] {
        var found: [SpecIssue] = []
        let key = spec.data.conditionKey
        let control = spec.data.control
        // Cells per label (per problem id, with contexts: a context's control cells under
        // `<context>/<control>`), and the labels the PCA is fitted on besides the controls.
        var counts: [String: Int]
        var selected: [String]
        var fittedCells: Int
        if let conditions {
            let composite = compositeIssues(spec, conditions: conditions)
            found += composite.issues
            counts = composite.counts
            selected = composite.selected
            fittedCells = composite.fittedCells
        } else {
            guard let column = summary.obs.first(where: { $0.name == key.value }) else {
                let columns = summary.obs.map(\.name).joined(separator: ", ")
                return [SpecIssue("data.condition_key: no obs column '\(key.value)' in the data (obs has: \(columns.isEmpty ? "nothing" : columns))",
                                  at: key.location)]
            }
            guard column.type == "categorical" else {
                return [SpecIssue("data.condition_key: obs column '\(key.value)' is \(column.type), expected categorical", at: key.location)]
            }
            let labels = column.categoryCounts.filter { $0.count > 0 }.map(\.name)
            if !labels.contains(control.value) {
                found.append(SpecIssue("data.control: no cells labelled '\(control.value)' in obs '\(key.value)' (labels: \(labels.joined(separator: ", ")))",
                                       at: control.location))
            }
            if case .list(let drugs) = spec.drugs {
                for drug in drugs where !labels.contains(drug.value) {
                    found.append(SpecIssue("drugs: no cells labelled '\(drug.value)' in obs '\(key.value)' (labels: \(labels.joined(separator: ", ")))",
                                           at: drug.location))
                }
                for drug in drugs where drug.value == control.value {
                    found.append(SpecIssue("drugs: '\(drug.value)' is the control label", at: drug.location))
                }
            } else if labels.filter({ $0 != control.value }).isEmpty {
                found.append(SpecIssue("drugs: 'all' but obs '\(key.value)' has no label besides the control", at: key.location))
            }
            counts = Dictionary(column.categoryCounts.map { ($0.name, $0.count) }, uniquingKeysWith: +)
            if case .list(let drugs) = spec.drugs { selected = drugs.map(\.value) } else { selected = labels.filter { $0 != control.value } }
            selected = Set(selected).filter { $0 != control.value }.sorted()
            fittedCells = (counts[control.value] ?? 0) + selected.reduce(0) { $0 + (counts[$1] ?? 0) }
        }
        if let holdout = spec.split.holdout {
            if let groups = summary.obs.first(where: { $0.name == holdout.key.value }) {
                let present = Set(groups.categoryCounts.filter { $0.count > 0 }.map(\.name))
                if groups.type == "categorical" {
                    for value in holdout.values where !present.contains(value.value) {
                        found.append(SpecIssue("split.holdout.values: no cells with obs '\(holdout.key.value)' = '\(value.value)' (values: \(present.sorted().joined(separator: ", ")))",
                                               at: value.location))
                    }
                }
            } else {
                found.append(SpecIssue("split.holdout.key: no obs column '\(holdout.key.value)' in the data (obs has: \(summary.obs.map(\.name).joined(separator: ", ")))",
                                       at: holdout.key.location))
            }
        }
        if let massBy = spec.report.massBy, !summary.obs.contains(where: { $0.name == massBy.value }) {
            found.append(SpecIssue("report.mass_by: no obs column '\(massBy.value)' in the data (obs has: \(summary.obs.map(\.name).joined(separator: ", ")))",
                                   at: massBy.location))
        }
        var dimensions: [(features: Located<String>, count: Int)] = []
        for features in spec.data.featureSets {
            guard let count = featureCount(features.value, in: summary, varNameCount: varNameCount) else {
                let keys = summary.obsm.map(\.key).joined(separator: ", ")
                found.append(SpecIssue("data.features: '\(features.value)' is neither X nor an obsm entry (obsm has: \(keys.isEmpty ? "nothing" : keys))",
                                       at: features.location))
                continue
            }
            dimensions.append((features, count))
        }
        guard dimensions.count == spec.data.featureSets.count else { return found }
        if let featureCount = dimensions.first?.count {
            for components in spec.pcaComponents where components.value > featureCount {
                found.append(SpecIssue("pca.components: \(components.value) components but the features have only \(featureCount) dimensions",
                                       at: components.location))
            }
        }
        // The PCA is fitted on the control cells and the selected drugs' cells; beyond n − 1
        // components the covariance has no variance left and the axes would be arbitrary.
        if spec.pca != .disabled, fittedCells > 0 {
            for components in spec.pcaComponents where components.value > fittedCells - 1 {
                found.append(SpecIssue("pca.components: \(components.value) components but the PCA is fitted on \(fittedCells) cells (the control and the selected drugs), so at most \(fittedCells - 1) carry variance",
                                       at: components.location))
            }
        }
        if conditions == nil { found += singleCellLabels(spec, counts: counts, selected: selected) }
        if spec.pca == .disabled {
            for (index, entry) in dimensions.enumerated() {
                if let earlier = dimensions[..<index].first(where: { $0.count == entry.count }) {
                    found.append(SpecIssue("data.features: '\(earlier.features.value)' and '\(entry.features.value)' both have \(entry.count) dimensions; with pca: none the report's d column must tell the feature sets apart",
                                           at: entry.features.location))
                }
            }
        }
        for (trueMap, entry) in zip(spec.data.trueMaps ?? [], dimensions) {
            guard let stored = summary.obsm.first(where: { $0.key == trueMap.value }) else {
                let keys = summary.obsm.map(\.key).joined(separator: ", ")
                found.append(SpecIssue("data.true_map: no obsm entry '\(trueMap.value)' (obsm has: \(keys.isEmpty ? "nothing" : keys))", at: trueMap.location))
                continue
            }
            let expected = [summary.nObs, entry.count]
            if stored.shape != expected {
                found.append(SpecIssue("data.true_map: obsm '\(trueMap.value)' is \(stored.shape.map(String.init).joined(separator: " × ")), expected \(summary.nObs) × \(entry.count) (one true image per cell, in the space of '\(entry.features.value)')",
                                       at: trueMap.location))
            }
        }
        return found
    }

    /// Each split needs 2 cells of every label (one to fit, one to test).
    private static func singleCellLabels(_ spec: PipelineSpec, counts: [String: Int], selected: [String]) -> [SpecIssue] {
        let control = spec.data.control.value
        return ([control] + selected.filter { $0 != control }).filter { counts[$0] == 1 }.map { label in
            var location = spec.data.conditionKey.location
            if label == control {
                location = spec.data.control.location
            } else if case .list(let drugs) = spec.drugs, let entry = drugs.first(where: { $0.value == label }) {
                location = entry.location
            }
            return SpecIssue("split: '\(label)' has 1 cell; a split needs at least 2 of each label (one to fit, one to test)", at: location)
        }
    }

    /// Notes, not errors: with PCA, labels whose training part of a split has fewer cells than a
    /// requested component count, so the fitted cells span fewer dimensions than the map lives
    /// in (it still runs; tiny test pipelines do this on purpose). `labelCounts`: cells per
    /// label of the condition column.
    public static func splitNotes(_ spec: PipelineSpec, labelCounts counts: [String: Int]) -> [SpecIssue] {
        guard spec.pca != .disabled, spec.split.holdout == nil else { return [] }
        let control = spec.data.control.value
        let selected: [String]
        if case .list(let drugs) = spec.drugs { selected = drugs.map(\.value) } else { selected = counts.keys.sorted().filter { $0 != control } }
        let labels = [control] + selected.filter { $0 != control }
        let fraction = spec.split.testFraction
        return spec.pcaComponents.compactMap { components in
            let short = labels.compactMap { label -> String? in
                guard let n = counts[label], n >= 2 else { return nil }
                let train = n - DrugSplit.testCount(of: n, testFraction: fraction)
                return train < components.value ? "'\(label)' (\(n) cells, \(train) to fit)" : nil
            }
            guard !short.isEmpty else { return nil }
            return SpecIssue("note: pca.components: \(components.value) components but with test_fraction \(fraction) each split fits on fewer cells than that for \(short.joined(separator: ", ")); those cells span fewer dimensions than the map is fitted in",
                             at: components.location)
        }
    }
}
