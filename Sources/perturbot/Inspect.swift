import AnnData
import ArgumentParser

/// `perturbot inspect FILE.h5ad [--json] [--obs COLUMN]`.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarise an AnnData .h5ad file: shape, X encoding, obs columns, obsm, sum of X.")

    @Argument(help: "The .h5ad file.")
    var file: String

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(name: .customLong("obs"), help: "Describe only this obs column (an error if it is absent).")
    var obsColumn: String?

    func run() throws {
        try reportingErrors {
            var summary = try AnnDataSummary.read(file)
            if let obsColumn { summary = try summary.restrictingObs(to: obsColumn, file: file) }
            print(json ? Inspect.json(summary).serialized : Inspect.text(summary, file: file))
        }
    }

    static func json(_ summary: AnnDataSummary) -> JSONValue {
        func columns(_ described: [AnnDataSummary.ObsColumn]) -> JSONValue {
            .object(described.map { column -> (String, JSONValue) in
                var members: [(String, JSONValue)] = [("type", .string(column.type))]
                if column.type == "categorical" {
                    members.append(("categories", .object(column.categoryCounts.map { ($0.name, .integer($0.count)) })))
                }
                members.append(("missing", .integer(column.missing)))
                return (column.name, .object(members))
            })
        }
        func shapes(_ entries: [(key: String, shape: [Int])]) -> JSONValue {
            .object(entries.map { ($0.key, .array($0.shape.map { .integer($0) })) })
        }
        var members: [(String, JSONValue)] = [
            ("n_obs", .integer(summary.nObs)),
            ("n_vars", .integer(summary.nVars)),
            ("x", .object([("encoding", .string(summary.xEncoding)), ("dtype", .string(summary.xDtype))])),
            ("obs", columns(summary.obs)),
            ("obsm", shapes(summary.obsm)),
            ("x_sum", .number(summary.xSum)),
            ("var", columns(summary.variables)),
            ("varm", shapes(summary.varm)),
        ]
        if let raw = summary.raw {
            members.append(("raw", .object([
                ("n_vars", .integer(raw.nVars)),
                ("x", .object([("encoding", .string(raw.xEncoding)), ("dtype", .string(raw.xDtype))])),
            ])))
        }
        members.append(("layout", .string(summary.layout)))
        return .object(members)
    }

    static func text(_ summary: AnnDataSummary, file: String) -> String {
        var lines = [
            file,
            "  layout  \(summary.layout)",
            "  shape   \(summary.nObs) obs × \(summary.nVars) vars",
            "  X       \(summary.xEncoding) \(summary.xDtype), sum \(summary.xSum)",
        ]
        if let raw = summary.raw {
            lines.append("  raw     \(summary.nObs) obs × \(raw.nVars) vars, X \(raw.xEncoding) \(raw.xDtype)")
        }
        lines.append("  obs")
        let width = (summary.obs.map(\.name.count).max() ?? 0) + 2
        for column in summary.obs {
            let name = column.name.padding(toLength: width, withPad: " ", startingAt: 0)
            if column.type == "categorical" {
                lines.append("    \(name)categorical, \(column.categoryCounts.count) categories, \(column.missing) missing")
                for (category, count) in column.categoryCounts {
                    lines.append("      \(category): \(count)")
                }
            } else {
                lines.append("    \(name)\(column.type), \(column.missing) missing")
            }
        }
        if summary.obs.isEmpty { lines.append("    (no columns)") }
        lines.append("  obsm")
        let keyWidth = (summary.obsm.map(\.key.count).max() ?? 0) + 2
        for (key, shape) in summary.obsm {
            let paddedKey = key.padding(toLength: keyWidth, withPad: " ", startingAt: 0)
            lines.append("    \(paddedKey)\(shape.map(String.init).joined(separator: " × "))")
        }
        if summary.obsm.isEmpty { lines.append("    (none)") }
        if !summary.variables.isEmpty {
            let varWidth = (summary.variables.map(\.name.count).max() ?? 0) + 2
            lines.append("  var")
            for column in summary.variables {
                let name = column.name.padding(toLength: varWidth, withPad: " ", startingAt: 0)
                let categories = column.type == "categorical" ? ", \(column.categoryCounts.count) categories" : ""
                lines.append("    \(name)\(column.type)\(categories), \(column.missing) missing")
            }
        }
        if !summary.varm.isEmpty {
            lines.append("  varm")
            for (key, shape) in summary.varm {
                lines.append("    \(key)  \(shape.map(String.init).joined(separator: " × "))")
            }
        }
        if !summary.skipped.isEmpty {
            lines.append("  not described")
            lines += summary.skipped.map { "    \($0)" }
        }
        return lines.joined(separator: "\n")
    }
}
