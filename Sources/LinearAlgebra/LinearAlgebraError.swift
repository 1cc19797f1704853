/// Errors raised by matrix construction and LAPACK-backed decompositions.
public enum LinearAlgebraError: Error, Equatable, CustomStringConvertible {
    /// The requested shape does not match the data given for it.
    case shapeMismatch(String)
    /// Rows of a nested array have different lengths.
    case raggedRows(row: Int, expected: Int, found: Int)
    /// A LAPACK routine returned a non-zero `info`.
    case lapackFailure(routine: String, info: Int)
    /// The input contains NaN or infinity where a finite number is required.
    case nonFinite(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let what):
            return "shape mismatch: \(what)"
        case .raggedRows(let row, let expected, let found):
            return "row \(row) has \(found) values, expected \(expected) like the first row"
        case .lapackFailure(let routine, let info):
            return info < 0
                ? "LAPACK \(routine) rejected argument \(-info)"
                : "LAPACK \(routine) did not converge (info = \(info))"
        case .nonFinite(let what):
            return "non-finite value in \(what)"
        }
    }
}
