import Datasets
import Foundation
import Stages
import Yams

/// Reads an `experiment: inverse_ot` pipeline file, with the checks and FILE:LINE:COLUMN
/// messages of `SpecParser`.
public enum InverseOTExperimentParser {
    public static func parse(file path: String) throws -> InverseOTExperimentSpec {
        let root = try PipelineFile.compose(path)
        var reader = NodeReader()
        let spec = root.flatMap { reader.inverseOTExperiment($0) }
        guard reader.issues.isEmpty, let spec else { throw PipelineSpecError(file: path, issues: reader.issues) }
        return spec
    }
}

extension NodeReader {
    mutating func inverseOTExperiment(_ root: Node) -> InverseOTExperimentSpec? {
        guard let top = mapping(root, "the inverse-OT experiment file",
                                allowed: ["name", "experiment", "graph", "pairs", "epsilon", "seeds", "estimator", "skip", "report"],
                                required: ["name", "experiment", "graph", "pairs", "epsilon", "seeds"]) else { return nil }
        if let kind = top["experiment"], let text = string(kind, "experiment"), text != "inverse_ot" {
            issue("experiment must be inverse_ot (the only experiment kind), got '\(text)'", at: kind)
        }
        let name = top["name"].flatMap { identifier($0, "name") }
        var graph: (IOTGraphDataset.Graph, Int, Double)?
        if let node = top["graph"], let fields = mapping(node, "graph", allowed: ["kind", "nodes", "delta"], required: ["kind", "nodes"]) {
            let kind = fields["kind"].flatMap { choice($0, "graph.kind", IOTGraphDataset.Graph.self) }
            let nodes = fields["nodes"].flatMap { integerList($0, "graph.nodes", minimum: 2) }
            if let nodes, nodes.count != 1, let node = fields["nodes"] { issue("graph.nodes must be one integer", at: node) }
            let delta = fields["delta"].map { positiveNumber($0, "graph.delta") } ?? 1
            if let kind, let nodes, nodes.count == 1, let delta { graph = (kind, nodes[0].value, delta) }
        }
        let pairs = top["pairs"].flatMap { integerList($0, "pairs", minimum: 2) }
        let epsilons = top["epsilon"].flatMap { positiveNumbers($0, "epsilon") }
        let seeds = top["seeds"].flatMap { integerList($0, "seeds", minimum: 0) }
        var lambdaScales = [1.0]
        var settings = InverseOTGraphFit.Settings()
        if let node = top["estimator"], let fields = mapping(
            node, "estimator",
            allowed: ["penalty", "lambda0", "tolerance", "max_iterations", "support_tolerance", "sinkhorn_threshold", "sinkhorn_max_iterations", "solver"],
            required: []) {
            if let value = fields["penalty"] { settings.penalty = choice(value, "estimator.penalty", InverseOTGraphFit.Penalty.self) ?? settings.penalty }
            if let value = fields["solver"] {
                settings.solver = choice(value, "estimator.solver", InverseOTGraphFit.Solver.self) ?? settings.solver
                if settings.solver == .joint, settings.penalty == .nuclear {
                    issue("estimator.solver joint takes the l1 penalty or none; the nuclear norm needs nested (or auto)", at: value)
                }
            }
            if let value = fields["lambda0"], let numbers = positiveNumbers(value, "estimator.lambda0") { lambdaScales = numbers }
            if let value = fields["tolerance"], let number = positiveNumber(value, "estimator.tolerance") { settings.tolerance = number }
            if let value = fields["max_iterations"], let list = integerList(value, "estimator.max_iterations", minimum: 1) {
                settings.maxIterations = list[0].value
            }
            if let value = fields["support_tolerance"], let number = number(value, "estimator.support_tolerance") {
                if number >= 0, number < 1 { settings.supportTolerance = number } else {
                    issue("estimator.support_tolerance must be in [0, 1), got \(number)", at: value)
                }
            }
            if let value = fields["sinkhorn_threshold"], let number = positiveNumber(value, "estimator.sinkhorn_threshold") {
                settings.sinkhornThreshold = number
            }
            if let value = fields["sinkhorn_max_iterations"], let list = integerList(value, "estimator.sinkhorn_max_iterations", minimum: 1) {
                settings.sinkhornMaxIterations = list[0].value
            }
        }
        var skipped: [InverseOTExperimentSpec.Cell] = []
        if let node = top["skip"] {
            if case .sequence(let items) = node {
                for item in items {
                    guard let fields = mapping(item, "skip entry", allowed: ["pairs", "epsilon"], required: ["pairs", "epsilon"]),
                          let n = fields["pairs"].flatMap({ integerList($0, "skip.pairs", minimum: 2) }),
                          let e = fields["epsilon"].flatMap({ positiveNumbers($0, "skip.epsilon") }) else { continue }
                    for p in n { for value in e { skipped.append(.init(pairs: p.value, epsilon: value)) } }
                }
            } else {
                issue("skip must be a list of { pairs, epsilon } entries", at: node)
            }
        }
        let report = reportSection(top["report"], name: name ?? "iot")
        guard let name, let graph, let pairs, let epsilons, let seeds, let report else { return nil }
        return InverseOTExperimentSpec(
            name: name, graph: graph.0, nodes: graph.1, delta: graph.2, pairs: pairs.map(\.value), epsilons: epsilons,
            seeds: seeds.map { UInt64($0.value) }, lambdaScales: lambdaScales, skipped: skipped,
            settings: settings, report: report)
    }

    /// One positive number or a non-empty list of distinct ones.
    mutating func positiveNumbers(_ node: Node, _ what: String) -> [Double]? {
        let items: [Node]
        if case .sequence(let sequence) = node { items = Array(sequence) } else { items = [node] }
        guard !items.isEmpty else {
            issue("\(what) must be a number or a non-empty list of numbers > 0", at: node)
            return nil
        }
        var values: [Double] = []
        for item in items {
            guard let value = positiveNumber(item, "\(what) entry") else { return nil }
            guard !values.contains(value) else {
                issue("\(what) lists \(value) twice", at: item)
                return nil
            }
            values.append(value)
        }
        return values
    }
}
