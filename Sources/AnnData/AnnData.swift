import LinearAlgebra

/// A scalar (or nested dictionary of scalars) from `uns`.
public enum UnsValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case double(Double)
    case bool(Bool)
    case dictionary([String: UnsValue])
}

/// An annotated data matrix, as anndata defines it: `X` (cells × features) with `obs` (one row
/// per cell), `var` (one row per feature), `obsm` (per-cell embeddings), `layers` (alternative
/// matrices of X's shape) and `uns` (unstructured metadata).
///
/// Numeric data is held in `Scalar` (Float or Double) whatever the file stored; the stored
/// dtype of X is kept in `xElementType` so tools can report it.
public struct AnnData<Scalar: BLASScalar>: Sendable, Equatable {
    public var X: AnnMatrix<Scalar>?
    /// numpy's name of X's stored dtype (`float32`, `int32`, …); nil without X.
    public var xElementType: String?
    public var obs: DataFrame
    public var `var`: DataFrame
    public var obsm: [String: Matrix<Scalar>]
    public var layers: [String: AnnMatrix<Scalar>]
    public var uns: [String: UnsValue]
    /// `adata.raw` (scanpy keeps the full normalised matrix here), nil when the file has none.
    public var raw: RawAnnData<Scalar>?
    /// Elements present in the file that this reader does not load, with the reason
    /// (e.g. `obsp/distances: sparse pairwise matrices are not loaded`).
    public var skippedElements: [String]
    /// The file this object was read from, for messages; nil when built in memory.
    public var source: String?

    public init(
        X: AnnMatrix<Scalar>?, obs: DataFrame, `var`: DataFrame,
        obsm: [String: Matrix<Scalar>] = [:], layers: [String: AnnMatrix<Scalar>] = [:],
        uns: [String: UnsValue] = [:], xElementType: String? = nil
    ) {
        self.X = X
        self.xElementType = xElementType ?? X.map { _ in MemoryLayout<Scalar>.size == 4 ? "float32" : "float64" }
        self.obs = obs
        self.var = `var`
        self.obsm = obsm
        self.layers = layers
        self.uns = uns
        self.raw = nil
        self.skippedElements = []
        self.source = nil
    }

    public var nObs: Int { obs.rowCount }
    public var nVars: Int { self.var.rowCount }
}

/// `adata.raw`: a matrix with the same cells as X over its own set of variables.
public struct RawAnnData<Scalar: BLASScalar>: Sendable, Equatable {
    public var X: AnnMatrix<Scalar>
    public var `var`: DataFrame

    public init(X: AnnMatrix<Scalar>, `var` variables: DataFrame) {
        self.X = X
        self.var = variables
    }
}

extension AnnData {
    /// The obs column `name`.
    /// - Throws: `AnnDataError.missingObsColumn`, listing the columns that do exist.
    public func obsColumn(_ name: String) throws -> Column {
        guard let column = obs[name] else {
            throw AnnDataError.missingObsColumn(name, available: obs.columnNames, file: source ?? "<in memory>")
        }
        return column
    }

    /// The obs column `name` as labels: a categorical's values (nil where missing) or text; nil
    /// for a column of another type.
    /// - Throws: `AnnDataError.missingObsColumn`, listing the columns that do exist.
    public func obsLabels(_ name: String) throws -> [String?]? {
        switch try obsColumn(name) {
        case .categorical(let categorical): return (0..<categorical.codes.count).map { categorical[$0] }
        case .string(let values): return values
        default: return nil
        }
    }

    /// The obs column `name` as labels of any type: `obsLabels` for categorical and text columns;
    /// numbers written as pandas prints them in a label (10.0 → "10", 0.5 → "0.5"; NaN missing);
    /// booleans as "True"/"False". For a condition made of a drug and a numeric dose.
    /// - Throws: `AnnDataError.missingObsColumn`, listing the columns that do exist.
    public func obsValueLabels(_ name: String) throws -> [String?] {
        switch try obsColumn(name) {
        case .categorical(let categorical): return (0..<categorical.codes.count).map { categorical[$0] }
        case .string(let values): return values
        case .integer(let values): return values.map { String($0) }
        case .double(let values): return values.map { $0.isNaN ? nil : Self.numberLabel($0) }
        case .bool(let values): return values.map { $0 ? "True" : "False" }
        }
    }

    /// A number as a label: integral values without a fraction, others in their shortest form.
    public static func numberLabel(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
