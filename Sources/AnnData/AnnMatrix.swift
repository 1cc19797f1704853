import LinearAlgebra

/// A matrix element of an AnnData object (`X`, a layer): dense or compressed sparse.
public enum AnnMatrix<Scalar: BLASScalar>: Sendable, Equatable {
    case dense(Matrix<Scalar>)
    case sparse(SparseMatrix<Scalar>)

    public var rows: Int {
        switch self {
        case .dense(let m): return m.rows
        case .sparse(let s): return s.rows
        }
    }

    public var cols: Int {
        switch self {
        case .dense(let m): return m.cols
        case .sparse(let s): return s.cols
        }
    }

    /// `dense`, `csr` or `csc`, as `perturbot inspect` names encodings.
    public var encodingName: String {
        switch self {
        case .dense: return "dense"
        case .sparse(let s): return s.format.rawValue
        }
    }

    /// The values as a dense matrix (a copy for sparse input).
    public func densified() -> Matrix<Scalar> {
        switch self {
        case .dense(let m): return m
        case .sparse(let s): return s.densified()
        }
    }

    /// Sum of all entries, accumulated in Double.
    public func sum() -> Double {
        switch self {
        case .dense(let m): return m.storage.reduce(0.0) { $0 + Double($1) }
        case .sparse(let s): return s.sum()
        }
    }
}
