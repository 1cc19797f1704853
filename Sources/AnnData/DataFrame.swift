/// A categorical column: `codes[i]` indexes `categories`, −1 marks a missing value.
public struct Categorical: Sendable, Equatable {
    public let categories: [String]
    public let codes: [Int32]
    public let ordered: Bool

    /// - Throws: `SparseLayoutError`-style message when a code is out of range.
    public init(categories: [String], codes: [Int32], ordered: Bool = false) throws {
        if let bad = codes.first(where: { $0 < -1 || Int($0) >= categories.count }) {
            throw CategoricalCodeError(code: bad, categoryCount: categories.count)
        }
        self.categories = categories
        self.codes = codes
        self.ordered = ordered
    }

    /// Builds categories from values in order of first appearance; nil is missing.
    public init(values: [String?]) {
        var categories: [String] = []
        var lookup: [String: Int32] = [:]
        var codes: [Int32] = []
        codes.reserveCapacity(values.count)
        for value in values {
            guard let value else { codes.append(-1); continue }
            if let code = lookup[value] {
                codes.append(code)
            } else {
                let code = Int32(categories.count)
                lookup[value] = code
                categories.append(value)
                codes.append(code)
            }
        }
        self.categories = categories
        self.codes = codes
        self.ordered = false
    }

    /// The value of row `i`, nil when missing.
    public subscript(i: Int) -> String? {
        let code = codes[i]
        return code < 0 ? nil : categories[Int(code)]
    }

    /// Cells per category, in category order (zero for unused categories).
    public var counts: [Int] {
        var counts = [Int](repeating: 0, count: categories.count)
        for code in codes where code >= 0 { counts[Int(code)] += 1 }
        return counts
    }

    public var missingCount: Int { codes.reduce(0) { $0 + ($1 < 0 ? 1 : 0) } }
}

/// A categorical code outside `-1 ..< categories.count`.
public struct CategoricalCodeError: Error, CustomStringConvertible {
    public let code: Int32
    public let categoryCount: Int
    public var description: String {
        "categorical code \(code) is outside -1..<\(categoryCount)"
    }
}

/// One column of an obs/var dataframe.
public enum Column: Sendable, Equatable {
    case categorical(Categorical)
    case string([String])
    case integer([Int64])
    case double([Double])
    case bool([Bool])

    public var count: Int {
        switch self {
        case .categorical(let c): return c.codes.count
        case .string(let v): return v.count
        case .integer(let v): return v.count
        case .double(let v): return v.count
        case .bool(let v): return v.count
        }
    }

    /// `categorical`, `string`, `numeric` or `bool`, as `perturbot inspect` reports types.
    public var kindName: String {
        switch self {
        case .categorical: return "categorical"
        case .string: return "string"
        case .integer, .double: return "numeric"
        case .bool: return "bool"
        }
    }

    /// Missing entries: code −1 for categoricals, NaN for floating columns, else 0.
    public var missingCount: Int {
        switch self {
        case .categorical(let c): return c.missingCount
        case .double(let v): return v.reduce(0) { $0 + ($1.isNaN ? 1 : 0) }
        case .string, .integer, .bool: return 0
        }
    }
}

/// An obs or var table: a string index plus named, ordered columns of equal length.
public struct DataFrame: Sendable, Equatable {
    /// Row names (obs_names / var_names).
    public var index: [String]
    /// Name of the index column in the file (anndata's `_index` attribute).
    public var indexName: String
    public private(set) var columnNames: [String]
    private var columnsByName: [String: Column]

    public init(index: [String], indexName: String = "_index") {
        self.index = index
        self.indexName = indexName
        self.columnNames = []
        self.columnsByName = [:]
    }

    public var rowCount: Int { index.count }

    public subscript(name: String) -> Column? { columnsByName[name] }

    /// Adds or replaces column `name`; new columns go last.
    /// - Throws: `ColumnLengthError` when the column's length differs from the index's.
    public mutating func setColumn(_ name: String, _ column: Column) throws {
        guard column.count == index.count else {
            throw ColumnLengthError(column: name, length: column.count, expected: index.count)
        }
        if columnsByName[name] == nil { columnNames.append(name) }
        columnsByName[name] = column
    }

    /// The columns in order.
    public var columns: [(name: String, column: Column)] {
        columnNames.compactMap { name in columnsByName[name].map { (name, $0) } }
    }

    public static func == (lhs: DataFrame, rhs: DataFrame) -> Bool {
        lhs.index == rhs.index && lhs.indexName == rhs.indexName
            && lhs.columnNames == rhs.columnNames && lhs.columnsByName == rhs.columnsByName
    }
}

/// A column whose length differs from its dataframe's row count.
public struct ColumnLengthError: Error, CustomStringConvertible {
    public let column: String
    public let length: Int
    public let expected: Int
    public var description: String {
        "column '\(column)' has \(length) rows, expected \(expected)"
    }
}
