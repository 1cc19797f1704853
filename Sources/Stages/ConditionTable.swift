import AnnData
import LinearAlgebra

/// The conditions of a screen, cell by cell: each cell's condition label and, with a context
/// column (`data.context_key`, e.g. the cell line), its context.
///
/// A condition is one obs column's value (`condition_key: drug`) or a tuple of several
/// (`condition_key: [drug, dose]`), labelled by joining the values with `_` (`cisplatin_10`), as
/// scanpy and CPA users label sci-Plex's drug–dose conditions. Every cell whose first condition
/// column holds the control value is a control cell, whatever its other columns say (the vehicle
/// cells of sci-Plex carry dose 0), and is labelled with the control value alone.
///
/// With a context, a problem is one (context, condition): its treated cells are the condition's
/// cells of that context, its control cells the context's own control cells. Problems are
/// written `<context>/<condition>` (`A549/cisplatin_10`): the ids of its tasks, and the `drug`
/// of results.csv split into a `context` and a `drug` column.
public struct ConditionTable: Sendable, Equatable {
    /// Joins the values of several condition columns into a label.
    public static let valueSeparator = "_"
    /// Joins a context and a condition into a problem id.
    public static let contextSeparator: Character = "/"

    /// One entry per cell; nil where a condition column has no value.
    public let conditions: [String?]
    /// One entry per cell (nil where the context column has no value); nil without a context.
    public let contexts: [String?]?

    public init(conditions: [String?], contexts: [String?]?) {
        self.conditions = conditions
        self.contexts = contexts
    }

    /// - Parameters:
    ///   - columns: the condition columns, in `condition_key` order, with each cell's value.
    ///   - context: the context column, when there is one.
    ///   - control: the value of the first condition column that marks control cells.
    /// - Throws: `StageError.invalidInput` naming the column and value: two value tuples whose
    ///   labels coincide, or (with a context) a value containing `/`.
    public static func make(columns: [(name: String, labels: [String?])], context: (name: String, labels: [String?])?,
                            control: String) throws -> ConditionTable {
        guard let first = columns.first else { throw StageError.invalidInput("no condition column") }
        let count = first.labels.count
        for column in columns + (context.map { [$0] } ?? []) where column.labels.count != count {
            throw StageError.invalidInput("obs column '\(column.name)' has \(column.labels.count) values, '\(first.name)' has \(count)")
        }
        if let context {
            for column in columns + [context] {
                if let bad = Set(column.labels.compactMap { $0 }).first(where: { $0.contains(contextSeparator) }) {
                    throw StageError.invalidInput("obs column '\(column.name)': value '\(bad)' contains '\(contextSeparator)', which separates a context from a condition (\(context.name)/condition)")
                }
            }
        }
        var conditions: [String?]
        if columns.count == 1 {
            conditions = first.labels
        } else {
            conditions = [String?](repeating: nil, count: count)
            // label → the values that made it, to refuse two tuples with one label.
            var madeBy: [String: [String]] = [:]
            for cell in 0..<count {
                // A control cell's other columns may be empty (a vehicle has no dose).
                if first.labels[cell] == control {
                    conditions[cell] = control
                    continue
                }
                let values = columns.map { $0.labels[cell] }
                guard values.allSatisfy({ $0 != nil }) else { continue }
                let tuple = values.map { $0 ?? "" }
                let label = tuple.joined(separator: valueSeparator)
                if let earlier = madeBy[label] {
                    if earlier != tuple {
                        let names = columns.map(\.name).joined(separator: ", ")
                        throw StageError.invalidInput("obs columns \(names): the values (\(earlier.joined(separator: ", "))) and (\(tuple.joined(separator: ", "))) both make the condition label '\(label)'")
                    }
                } else {
                    if label == control {
                        throw StageError.invalidInput("obs columns \(columns.map(\.name).joined(separator: ", ")): the values (\(tuple.joined(separator: ", "))) make the control label '\(control)'")
                    }
                    madeBy[label] = tuple
                }
                conditions[cell] = label
            }
        }
        return ConditionTable(conditions: conditions, contexts: context?.labels)
    }

    /// The conditions and contexts of an AnnData's cells, from its obs columns (`condition_keys`
    /// in order; numeric columns labelled as `AnnData.obsValueLabels` writes them): what the load
    /// stage records and what `perturbot validate` checks, labelled by one piece of code.
    /// - Throws: `AnnDataError.missingObsColumn`, or `make`'s errors.
    public static func read(_ data: AnnData<Float>, conditionKeys: [String], contextKey: String?, control: String) throws -> ConditionTable {
        try make(columns: conditionKeys.map { ($0, try data.obsValueLabels($0)) },
                 context: try contextKey.map { ($0, try data.obsValueLabels($0)) }, control: control)
    }

    /// `<context>/<condition>`, or the condition alone without a context.
    public static func problemID(context: String?, condition: String) -> String {
        context.map { "\($0)\(contextSeparator)\(condition)" } ?? condition
    }

    /// A problem id's context (nil when it has none) and condition.
    public static func parts(of id: String) -> (context: String?, condition: String) {
        guard let slash = id.firstIndex(of: contextSeparator) else { return (nil, id) }
        return (String(id[..<slash]), String(id[id.index(after: slash)...]))
    }

    /// Cells per problem id (the control cells of a context under `<context>/<control>`), over
    /// the cells with a condition (and a context, when there are contexts).
    public func counts() -> [String: Int] {
        var counts: [String: Int] = [:]
        for cell in conditions.indices {
            guard let condition = conditions[cell] else { continue }
            if let contexts {
                guard let context = contexts[cell] else { continue }
                counts[Self.problemID(context: context, condition: condition), default: 0] += 1
            } else {
                counts[condition, default: 0] += 1
            }
        }
        return counts
    }

    /// The problems present, as ids in order of first appearance: every (context, condition) with
    /// a treated cell, or every condition without contexts; the control excluded.
    public func problems(control: String) -> [String] {
        var seen: Set<String> = [], order: [String] = []
        for cell in conditions.indices {
            guard let condition = conditions[cell], condition != control else { continue }
            var id = condition
            if let contexts {
                guard let context = contexts[cell] else { continue }
                id = Self.problemID(context: context, condition: condition)
            }
            if seen.insert(id).inserted { order.append(id) }
        }
        return order
    }
}
