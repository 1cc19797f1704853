import Foundation
import Methods
import Stages
import Yams

/// Reads and validates a pipeline file: every problem is collected (not just the first), each
/// with its line and column and what was expected. Unknown keys are errors, never ignored.
public enum SpecParser {
    public static func parse(file path: String) throws -> PipelineSpec {
        try parse(root: PipelineFile.compose(path), file: path)
    }

    public static func parse(_ text: String, file: String) throws -> PipelineSpec {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw PipelineSpecError(file: file, issues: [syntaxIssue(error)])
        }
        if let root { try PipelineFile.checkSize(root, file: file) }
        return try parse(root: root, file: file)
    }

    static func parse(root: Node?, file: String) throws -> PipelineSpec {
        var reader = NodeReader()
        let spec = root.flatMap { reader.pipeline($0) }
        if root == nil { reader.issue("the file is empty (expected a mapping with name, data, drugs, pca, split, methods)", at: nil) }
        guard reader.issues.isEmpty, let spec else { throw PipelineSpecError(file: file, issues: reader.issues) }
        return spec
    }

    /// One issue for a YAML error, at its line and column (never the whole file, which Yams
    /// puts in some errors' text).
    static func syntaxIssue(_ error: YamlError) -> SpecIssue {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let detail = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
            return SpecIssue("YAML syntax error: \(detail)", at: SourceLocation(line: mark.line, column: mark.column))
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return SpecIssue("duplicate key \(keys) in one mapping (each key may appear once; the first is here)",
                             at: SourceLocation(line: context.mark.line, column: context.mark.column))
        case .reader(let problem, _, _, _):
            return SpecIssue("YAML error: \(problem)", at: nil)
        default:
            return SpecIssue("YAML error: \(error)", at: nil)
        }
    }
}

/// Walks the YAML nodes, recording issues as it goes.
struct NodeReader {
    private(set) var issues: [SpecIssue] = []

    mutating func issue(_ message: String, at node: Node?) {
        issues.append(SpecIssue(message, at: node.flatMap(Self.location)))
    }

    /// "twice", "3 times", "999,999 times".
    static func times(_ count: Int) -> String { count == 2 ? "twice" : "\(count.grouped) times" }

    static func location(_ node: Node) -> SourceLocation? {
        node.mark.map { SourceLocation(line: $0.line, column: $0.column) }
    }

    // MARK: Sections

    mutating func pipeline(_ root: Node) -> PipelineSpec? {
        guard let top = mapping(root, "the pipeline file", allowed: ["name", "data", "drugs", "pca", "split", "methods", "evaluate", "report"],
                                required: ["name", "data", "drugs", "pca", "split", "methods"]) else { return nil }
        let name = top["name"].flatMap { identifier($0, "name") }
        let data = top["data"].flatMap { dataSection($0) }
        let drugs = top["drugs"].flatMap { drugList($0) }
        let pca = top["pca"].flatMap { pcaSection($0) }
        let split = top["split"].flatMap { splitSection($0) }
        let methods = top["methods"].flatMap { methodSection($0) }
        var metricNodes: [(PipelineSpec.Metric, Node)] = []
        var genes = GeneMetricsChoice()
        let evaluate = top["evaluate"].map { evaluateSection($0, metricNodes: &metricNodes, genes: &genes) } ?? PipelineSpec.EvaluateSpec(
            metrics: PipelineSpec.Metric.defaults, sinkhornEpsilon: nil)
        let report = reportSection(top["report"], name: name ?? "pipeline")
        if let data, let pca { crossCheck(data: data, dataNode: top["data"], pca: pca, metrics: metricNodes) }
        let gene = data.map { geneMetrics(genes, data: $0) }
        guard let name, let data, let drugs, let pca, let split, let methods, let evaluate, let report,
              let gene, gene.valid else { return nil }
        var evaluated = evaluate
        evaluated.massBy = report.massBy?.value
        var spec = PipelineSpec(name: name, data: data, drugs: drugs, pca: pca, split: split,
                                methods: methods, evaluate: evaluated, report: report)
        spec.geneMetrics = gene.metrics
        spec.geneDecode = genes.decode
        return spec
    }

    /// The rules that tie sections together: several feature sets, and the true-map metrics,
    /// need `pca: none`; the true-map metrics need `data.true_map`.
    private mutating func crossCheck(data: PipelineSpec.DataSpec, dataNode: Node?, pca: PipelineSpec.PCAChoice,
                                     metrics: [(PipelineSpec.Metric, Node)]) {
        if data.featureSets.count > 1, pca != .disabled {
            issues.append(SpecIssue("data.features lists \(data.featureSets.count) feature sets; that needs pca: none (each set is solved in its own feature space)",
                                    at: data.features.location))
        }
        for (metric, node) in metrics where metric.needsTrueMap {
            if data.trueMaps == nil {
                issue("evaluate.metrics: \(metric.rawValue) needs data.true_map (the obsm entry holding each cell's true image T₀(x))", at: node)
            } else if pca != .disabled {
                issue("evaluate.metrics: \(metric.rawValue) compares maps in feature space; it needs pca: none", at: node)
            }
        }
    }

    /// What `evaluate` says about gene space, checked against `data` once both are read.
    struct GeneMetricsChoice {
        var space: PipelineSpec.EvaluateSpace = .pca
        /// As listed (nil: the defaults).
        var listed: [Located<String>]?
        var node: Node?
        var decode: GeneScore.Decode = .displacement
    }

    /// The gene metrics of `choice` (the defaults, with program_recall when the data has true
    /// programs, where none are listed), nil with `space: pca`; not valid after an issue.
    private mutating func geneMetrics(_ choice: GeneMetricsChoice, data: PipelineSpec.DataSpec) -> (metrics: [String]?, valid: Bool) {
        guard choice.space != .pca else { return (nil, true) }
        guard let listed = choice.listed else {
            return (GeneScore.defaults + (data.truePrograms == nil ? [] : [GeneScore.programRecall]), true)
        }
        if listed.contains(where: { $0.value == GeneScore.programRecall }), data.truePrograms == nil {
            issues.append(SpecIssue("evaluate.gene_metrics: \(GeneScore.programRecall) needs data.true_programs (the uns path of each drug's up and down genes)",
                                    at: listed.first { $0.value == GeneScore.programRecall }?.location))
            return (nil, false)
        }
        return (listed.map(\.value), true)
    }

    private mutating func dataSection(_ node: Node) -> PipelineSpec.DataSpec? {
        guard let fields = mapping(node, "data", allowed: ["path", "condition_key", "context_key", "control", "features", "var_names", "transform", "target_sum", "true_map", "true_programs"],
                                   required: ["path", "condition_key", "control"]) else { return nil }
        let path = fields["path"].flatMap { locatedString($0, "data.path") }
        let key = fields["condition_key"].flatMap { locatedStrings($0, "data.condition_key") }
        let context = fields["context_key"].map { locatedString($0, "data.context_key") }
        if let context = context ?? nil, let key, key.contains(where: { $0.value == context.value }) {
            issue("data.context_key: '\(context.value)' is also a condition column; a context is a column of its own (the cell line)", at: fields["context_key"])
        }
        let control = fields["control"].flatMap { locatedString($0, "data.control") }
        let features = fields["features"].map { locatedStrings($0, "data.features") }
            ?? [Located(value: "X", location: Self.location(node) ?? SourceLocation(line: 1, column: 1))]
        let transform = fields["transform"].map { choice($0, "data.transform", PipelineSpec.Transform.self) }
            ?? PipelineSpec.Transform.none
        let targetSum = fields["target_sum"].map { positiveNumber($0, "data.target_sum") } ?? 1e4
        let varNames = fields["var_names"].map { locatedString($0, "data.var_names") }
        if let varNamesNode = fields["var_names"], let features, let first = features.first, features.count > 1 || first.value != "X" {
            issue("data.var_names selects columns of X; it cannot be used with features: \(features.map(\.value).joined(separator: ", "))", at: varNamesNode)
        }
        var trueMaps: [Located<String>]?
        var trueMapsValid = true
        if let trueMapNode = fields["true_map"] {
            trueMaps = locatedStrings(trueMapNode, "data.true_map")
            if let maps = trueMaps, let features, maps.count != features.count {
                issue("data.true_map must name one obsm entry per feature set: it names \(maps.count), data.features lists \(features.count)", at: trueMapNode)
                trueMapsValid = false
            }
            if let transformNode = fields["transform"], let transform, transform != PipelineSpec.Transform.none {
                issue("data.transform must be none with data.true_map: the true images are compared with the maps in the untransformed feature space", at: transformNode)
                trueMapsValid = false
            }
            if trueMaps == nil { trueMapsValid = false }
        }
        guard let path, let key, let control, let features, let transform, let targetSum, varNames != .some(nil), context != .some(nil),
              trueMapsValid else { return nil }
        let truePrograms = fields["true_programs"].map { locatedString($0, "data.true_programs (an uns path, e.g. perturbot_scrna_like/programs)") }
        guard truePrograms != .some(nil) else { return nil }
        var data = PipelineSpec.DataSpec(path: path, conditionKeys: key, control: control, featureSets: features, trueMaps: trueMaps,
                                         varNames: varNames ?? nil, transform: transform, targetSum: targetSum)
        data.contextKey = context ?? nil
        data.truePrograms = truePrograms ?? nil
        return data
    }

    private mutating func drugList(_ node: Node) -> PipelineSpec.Drugs? {
        if case .scalar = node, node.string == "all" { return .all }
        guard case .sequence(let sequence) = node, !sequence.isEmpty else {
            issue("drugs must be 'all' or a non-empty list of drug names", at: node)
            return nil
        }
        var drugs: [Located<String>] = []
        var counts: [String: Int] = [:], repeated: [(String, Node)] = []
        for item in sequence {
            guard let drug = locatedString(item, "drugs entry") else { continue }
            counts[drug.value, default: 0] += 1
            if counts[drug.value] == 2 { repeated.append((drug.value, item)) }
            drugs.append(drug)
        }
        // One issue per repeated drug, with its count (a list may repeat one name a million times).
        for (drug, item) in repeated { issue("drug '\(drug)' is listed \(Self.times(counts[drug] ?? 2))", at: item) }
        return drugs.count == sequence.count ? .list(drugs) : nil
    }

    private mutating func pcaSection(_ node: Node) -> PipelineSpec.PCAChoice? {
        if case .scalar = node {
            if node.string == "none" { return PipelineSpec.PCAChoice.disabled }
            issue("pca must be none or a mapping with key components, got '\(node.string ?? "")'", at: node)
            return nil
        }
        guard let fields = mapping(node, "pca", allowed: ["components"], required: ["components"]),
              let components = fields["components"] else { return nil }
        return integerList(components, "pca.components", minimum: 1).map { .components($0) }
    }

    private mutating func splitSection(_ node: Node) -> PipelineSpec.SplitSpec? {
        guard let fields = mapping(node, "split", allowed: ["test_fraction", "seeds", "holdout"], required: ["seeds"]) else {
            return nil
        }
        var holdout: PipelineSpec.SplitSpec.Holdout?
        if let holdoutNode = fields["holdout"] {
            guard let holdoutFields = mapping(holdoutNode, "split.holdout", allowed: ["key", "values"], required: ["key", "values"]),
                  let key = holdoutFields["key"].flatMap({ locatedString($0, "split.holdout.key") }),
                  let values = holdoutFields["values"].flatMap({ locatedStrings($0, "split.holdout.values") }) else { return nil }
            holdout = PipelineSpec.SplitSpec.Holdout(key: key, values: values)
        } else if fields["test_fraction"] == nil {
            issue("split needs test_fraction (random test cells) or holdout (out-of-distribution test cells)", at: node)
            return nil
        }
        let fraction = fields["test_fraction"].flatMap { value -> Double? in
            guard let number = number(value, "split.test_fraction") else { return nil }
            guard number > 0, number < 1 else {
                issue("split.test_fraction must be a number strictly between 0 and 1, got \(number)", at: value)
                return nil
            }
            return number
        }
        let seeds = fields["seeds"].flatMap { integerList($0, "split.seeds", minimum: 0) }
        guard let seeds, fraction != nil || (holdout != nil && fields["test_fraction"] == nil) else { return nil }
        return PipelineSpec.SplitSpec(testFraction: fraction ?? 0, seeds: seeds.map { UInt64($0.value) }, holdout: holdout)
    }

    private mutating func methodSection(_ node: Node) -> [PipelineSpec.MethodSpec]? {
        guard case .mapping(let entries) = node, !entries.isEmpty else {
            issue("methods must be a non-empty mapping of method name → { solver: …, parameters }", at: node)
            return nil
        }
        var methods: [PipelineSpec.MethodSpec] = []
        var complete = true
        for (keyNode, value) in entries {
            guard let name = identifier(keyNode, "method name") else { complete = false; continue }
            if methods.contains(where: { $0.name == name }) { issue("method '\(name)' is defined twice", at: keyNode) }
            guard let method = method(name, value) else { complete = false; continue }
            methods.append(method)
        }
        return complete ? methods : nil
    }

    private mutating func method(_ name: String, _ node: Node) -> PipelineSpec.MethodSpec? {
        guard case .mapping(let entries) = node else {
            issue("methods.\(name) must be a mapping with a 'solver' key", at: node)
            return nil
        }
        let known = MethodCatalog.names.joined(separator: ", ")
        guard let solverNode = entries["solver"] else {
            issue("methods.\(name) has no 'solver' (expected one of \(known))", at: node)
            return nil
        }
        guard let solverName = string(solverNode, "methods.\(name).solver") else { return nil }
        guard let configuration = MethodCatalog.configuration(named: solverName) else {
            issue("methods.\(name).solver: unknown solver '\(solverName)' (expected one of \(known))", at: solverNode)
            return nil
        }
        var assignments: [(key: String, value: ParameterValue)] = []
        var nodes: [(key: Node, value: Node)] = []
        for (keyNode, valueNode) in entries {
            guard let key = keyNode.string, key != "solver" else { continue }
            assignments.append((key, parameterValue(valueNode)))
            nodes.append((keyNode, valueNode))
        }
        let (method, problems) = MethodCatalog.configure(configuration, assignments)
        for (index, problem) in problems {
            switch problem {
            case .unknownParameter(let key, let parameters):
                issue("methods.\(name): unknown parameter '\(key)' for solver \(solverName) (expected \(parameters.isEmpty ? "none" : parameters.joined(separator: ", ")))",
                      at: index.map { nodes[$0].key })
            case .invalidValue(_, let message):
                issue("methods.\(name): \(message)", at: index.map { nodes[$0].value })
            case .combination(let message):
                issue("methods.\(name): \(message)", at: node)
            }
        }
        guard let method else { return nil }
        let written = Dictionary(assignments.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        return PipelineSpec.MethodSpec(name: name, solver: solverName, parameters: written, method: method)
    }

    /// `metricNodes` receives each listed metric with its node, for the checks against other sections.
    /// `genes` receives what the section says about gene space.
    private mutating func evaluateSection(_ node: Node, metricNodes: inout [(PipelineSpec.Metric, Node)],
                                          genes: inout GeneMetricsChoice) -> PipelineSpec.EvaluateSpec? {
        guard let fields = mapping(node, "evaluate", allowed: ["metrics", "sinkhorn_epsilon", "moved_threshold", "space", "gene_metrics", "decode"],
                                   required: []) else { return nil }
        if let value = fields["space"] {
            guard let space = choice(value, "evaluate.space", PipelineSpec.EvaluateSpace.self) else { return nil }
            genes.space = space
        }
        if let list = fields["gene_metrics"] {
            guard genes.space != .pca else {
                issue("evaluate.gene_metrics are scored in gene space; it needs evaluate.space: genes or both", at: list)
                return nil
            }
            guard let names = locatedStrings(list, "evaluate.gene_metrics") else { return nil }
            let known = GeneScore.available
            for name in names where !known.contains(name.value) {
                issues.append(SpecIssue("evaluate.gene_metrics: unknown metric '\(name.value)' (known: \(known.joined(separator: ", ")))", at: name.location))
            }
            guard names.allSatisfy({ known.contains($0.value) }) else { return nil }
            genes.listed = names
            genes.node = list
        }
        if let value = fields["decode"] {
            guard genes.space != .pca else {
                issue("evaluate.decode says how predictions reach gene space; it needs evaluate.space: genes or both", at: value)
                return nil
            }
            guard let decode = choice(value, "evaluate.decode", GeneScore.Decode.self) else { return nil }
            genes.decode = decode
        }
        var metrics = PipelineSpec.Metric.defaults
        if genes.space == .genes {
            // Scored in gene space only: the evaluate tasks keep the descriptive figures (moved
            // features, diagnostics) and rank nothing.
            metrics = []
            if let list = fields["metrics"] {
                issue("evaluate.metrics are scored in the space the maps are fitted in; with space: genes list gene_metrics, or use space: both", at: list)
                return nil
            }
        }
        if let list = fields["metrics"] {
            guard let parsed = choiceList(list, "evaluate.metrics", PipelineSpec.Metric.self) else { return nil }
            metrics = parsed
            if case .sequence(let items) = list { metricNodes = Array(zip(parsed, items)) }
        }
        var epsilon: Double?
        if let value = fields["sinkhorn_epsilon"], value.string != "auto" {
            guard let number = positiveNumber(value, "evaluate.sinkhorn_epsilon (auto or a number > 0)") else { return nil }
            epsilon = number
        }
        var movedThreshold: Double?
        if let value = fields["moved_threshold"] {
            guard let number = positiveNumber(value, "evaluate.moved_threshold") else { return nil }
            movedThreshold = number
        }
        return PipelineSpec.EvaluateSpec(metrics: metrics, sinkhornEpsilon: epsilon, movedThreshold: movedThreshold)
    }

    mutating func reportSection(_ node: Node?, name: String) -> PipelineSpec.ReportSpec? {
        let defaults = PipelineSpec.ReportSpec(out: "reports/\(name)", formats: PipelineSpec.ReportFormat.allCases, savePredictions: false)
        guard let node else { return defaults }
        guard let fields = mapping(node, "report", allowed: ["out", "formats", "save_predictions", "mass_by"], required: []) else { return nil }
        let out = fields["out"].map { string($0, "report.out") } ?? defaults.out
        var formats = defaults.formats
        if let list = fields["formats"] {
            guard let parsed = choiceList(list, "report.formats", PipelineSpec.ReportFormat.self) else { return nil }
            formats = parsed
        }
        let save = fields["save_predictions"].map { flag($0, "report.save_predictions") } ?? false
        let massBy = fields["mass_by"].map { locatedString($0, "report.mass_by (an obs column, e.g. cell_state)") }
        guard let out, let save, massBy != .some(nil) else { return nil }
        var report = PipelineSpec.ReportSpec(out: out, formats: formats, savePredictions: save)
        report.massBy = massBy ?? nil
        return report
    }

    // MARK: Values

    /// The entries of a mapping keyed by their string keys, after checking for unknown and
    /// missing keys.
    mutating func mapping(_ node: Node, _ what: String, allowed: [String], required: [String]) -> [String: Node]? {
        guard case .mapping(let entries) = node else {
            issue("\(what) must be a mapping with keys \(allowed.joined(separator: ", "))", at: node)
            return nil
        }
        var fields: [String: Node] = [:]
        for (keyNode, value) in entries {
            guard let key = keyNode.string, allowed.contains(key) else {
                issue("\(what): unknown key '\(keyNode.string ?? "?")' (expected \(allowed.joined(separator: ", ")))", at: keyNode)
                continue
            }
            fields[key] = value
        }
        let missing = required.filter { fields[$0] == nil }
        for key in missing { issue("\(what): missing key '\(key)'", at: node) }
        return fields
    }

    mutating func string(_ node: Node, _ what: String) -> String? {
        guard case .scalar = node, let text = node.string, !text.isEmpty, node.null == nil else {
            issue("\(what) must be a non-empty text value", at: node)
            return nil
        }
        return text
    }

    mutating func locatedString(_ node: Node, _ what: String) -> Located<String>? {
        string(node, what).map { Located(value: $0, location: Self.location(node) ?? SourceLocation(line: 1, column: 1)) }
    }

    /// One text value, or a non-empty list of distinct ones.
    mutating func locatedStrings(_ node: Node, _ what: String) -> [Located<String>]? {
        guard case .sequence(let items) = node else { return locatedString(node, what).map { [$0] } }
        guard !items.isEmpty else {
            issue("\(what) must be a text value or a non-empty list of them", at: node)
            return nil
        }
        var values: [Located<String>] = []
        for item in items {
            guard let value = locatedString(item, "\(what) entry") else { return nil }
            guard !values.contains(where: { $0.value == value.value }) else {
                issue("\(what) lists '\(value.value)' twice", at: item)
                return nil
            }
            values.append(value)
        }
        return values
    }

    /// Names that end up in file names and report columns: letters, digits, `_`, `-`, `.`.
    mutating func identifier(_ node: Node, _ what: String) -> String? {
        guard let text = string(node, what) else { return nil }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_-."))
        guard text.unicodeScalars.allSatisfy(allowed.contains), text.first != "." else {
            issue("\(what) '\(text)' may hold only letters, digits, '_', '-' and '.'", at: node)
            return nil
        }
        return text
    }

    mutating func number(_ node: Node, _ what: String) -> Double? {
        if case .scalar = node, let value = node.int { return Double(value) }
        if case .scalar = node, let value = node.float, value.isFinite { return value }
        issue("\(what) must be a number, got '\(node.string ?? "a collection")'", at: node)
        return nil
    }

    mutating func positiveNumber(_ node: Node, _ what: String) -> Double? {
        guard let value = number(node, what) else { return nil }
        guard value > 0 else {
            issue("\(what) must be > 0, got \(value)", at: node)
            return nil
        }
        return value
    }

    mutating func flag(_ node: Node, _ what: String) -> Bool? {
        if case .scalar = node, let value = node.bool { return value }
        issue("\(what) must be true or false, got '\(node.string ?? "a collection")'", at: node)
        return nil
    }

    mutating func choice<Choice: RawRepresentable & CaseIterable>(
        _ node: Node, _ what: String, _: Choice.Type
    ) -> Choice? where Choice.RawValue == String {
        if case .scalar = node, let text = node.string, let value = Choice(rawValue: text) { return value }
        let options = Choice.allCases.map(\.rawValue).joined(separator: ", ")
        issue("\(what) must be one of \(options), got '\(node.string ?? "a collection")'", at: node)
        return nil
    }

    /// A non-empty list of words, each one of `Choice`'s cases.
    mutating func choiceList<Choice: RawRepresentable & CaseIterable>(
        _ node: Node, _ what: String, _: Choice.Type
    ) -> [Choice]? where Choice.RawValue == String {
        guard case .sequence(let items) = node, !items.isEmpty else {
            issue("\(what) must be a non-empty list of \(Choice.allCases.map(\.rawValue).joined(separator: ", "))", at: node)
            return nil
        }
        let parsed = items.map { choice($0, "\(what) entry", Choice.self) }
        guard parsed.allSatisfy({ $0 != nil }) else { return nil }
        return parsed.compactMap { $0 }
    }

    /// One integer or a non-empty list of distinct integers ≥ `minimum`.
    mutating func integerList(_ node: Node, _ what: String, minimum: Int) -> [Located<Int>]? {
        let items: [Node]
        switch node {
        case .sequence(let sequence): items = Array(sequence)
        default: items = [node]
        }
        guard !items.isEmpty else {
            issue("\(what) must be an integer or a non-empty list of integers ≥ \(minimum)", at: node)
            return nil
        }
        var values: [Located<Int>] = []
        var counts: [Int: Int] = [:]
        for item in items {
            guard case .scalar = item, let value = item.int, value >= minimum else {
                issue("\(what) must hold integers ≥ \(minimum), got '\(item.string ?? "a collection")'", at: item)
                return nil
            }
            counts[value, default: 0] += 1
            values.append(Located(value: value, location: Self.location(item) ?? SourceLocation(line: 1, column: 1)))
        }
        if let repeated = values.first(where: { counts[$0.value, default: 0] > 1 }) {
            issue("\(what) lists \(repeated.value) \(Self.times(counts[repeated.value] ?? 2))", at: items.first { $0.int == repeated.value })
            return nil
        }
        return values
    }

    func parameterValue(_ node: Node) -> ParameterValue {
        if case .mapping(let mapping) = node {
            var entries: [String: ParameterValue] = [:]
            for (key, value) in mapping { entries[key.string ?? "\(key)"] = parameterValue(value) }
            return .mapping(entries)
        }
        guard case .scalar(let scalar) = node else { return .text("a collection") }
        if scalar.style == .plain {
            if let value = node.int { return .integer(value) }
            if let value = node.float { return .number(value) }
            if let value = node.bool { return .flag(value) }
        }
        return .text(scalar.string)
    }
}
