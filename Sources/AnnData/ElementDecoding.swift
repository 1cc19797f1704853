import CHDF5
import LinearAlgebra

/// How anndata encoded one element, from its `encoding-type` attribute or, for files written
/// before those attributes existed (anndata ≤ 0.7), from its shape in the file.
enum ElementEncoding: Equatable {
    case denseArray
    case csr
    case csc
    case dataframe
    case categorical
    case legacyCategorical
    case stringArray
    /// anndata ≥ 0.13 (pandas' string dtype): a group of `values` (strings) and `mask` (true
    /// where the entry is missing).
    case nullableStringArray
    case dictionary
    case scalar
    case other(String)

    /// `dense`, `csr` or `csc` for the matrix encodings, as `perturbot inspect` prints them.
    var matrixLayoutName: String {
        switch self {
        case .csr: return "csr"
        case .csc: return "csc"
        default: return "dense"
        }
    }

    var name: String {
        switch self {
        case .denseArray: return "array"
        case .csr: return "csr_matrix"
        case .csc: return "csc_matrix"
        case .dataframe: return "dataframe"
        case .categorical: return "categorical"
        case .legacyCategorical: return "categorical (anndata 0.7)"
        case .stringArray: return "string-array"
        case .nullableStringArray: return "nullable-string-array"
        case .dictionary: return "dict"
        case .scalar: return "scalar"
        case .other(let name): return name
        }
    }
}

extension H5Node {
    func elementEncoding() throws -> ElementEncoding {
        if let declared = try encodingType() {
            switch declared {
            case "array": return .denseArray
            case "csr_matrix": return .csr
            case "csc_matrix": return .csc
            case "dataframe": return .dataframe
            case "categorical": return .categorical
            case "string-array": return .stringArray
            case "nullable-string-array": return .nullableStringArray
            case "dict": return .dictionary
            case "numeric-scalar", "string": return .scalar
            default:
                if isDataset, try hasAttribute("categories") { return .legacyCategorical }
                return .other(declared)
            }
        }
        if isGroup {
            switch try stringAttribute("h5sparse_format") {
            case "csr": return .csr
            case "csc": return .csc
            case .some(let format): return .other("h5sparse \(format)")
            case nil: return .dictionary
            }
        }
        if try hasAttribute("categories") { return .legacyCategorical }
        let source = try datasetSource()
        if try source.shape().isEmpty { return .scalar }
        return source.elementType == .string ? .stringArray : .denseArray
    }

    func unsupported(_ encoding: ElementEncoding, expected: String) -> AnnDataError {
        AnnDataError(.unsupportedEncoding, file: file, element: displayPath,
                     detail: "unsupported encoding '\(encoding.name)' (expected \(expected))")
    }

    // MARK: Matrices (X, layers)

    /// Encoding, stored dtype and shape of a matrix element, without reading its values.
    func matrixHeader() throws -> (encoding: ElementEncoding, dtype: H5ElementType, shape: [Int]) {
        let encoding = try elementEncoding()
        switch encoding {
        case .denseArray:
            let source = try datasetSource()
            let shape = try source.shape()
            guard shape.count == 2 else { throw layoutError("expected a 2-D matrix, found shape \(shape)") }
            guard source.elementType.isNumeric else {
                throw layoutError("expected numbers, found \(source.elementType.numpyName)")
            }
            return (encoding, source.elementType, shape)
        case .csr, .csc:
            guard let data = try child("data") else { throw missing("data") }
            let shape = try sparseShape()
            return (encoding, try data.datasetSource().elementType, shape)
        default:
            throw unsupported(encoding, expected: "a dense array, csr_matrix or csc_matrix")
        }
    }

    private func missing(_ name: String) -> AnnDataError {
        AnnDataError(.invalidLayout, file: file, element: childPath(name), detail: "is missing")
    }

    private func sparseShape() throws -> [Int] {
        guard let shape = try integerArrayAttribute("shape") ?? integerArrayAttribute("h5sparse_shape"),
              shape.count == 2, shape.allSatisfy({ $0 >= 0 }) else {
            throw layoutError("sparse matrix needs a 'shape' attribute of two non-negative integers")
        }
        return shape
    }

    func readMatrix<Scalar: BLASScalar>(
        as _: Scalar.Type, sparse handling: AnnDataReader.SparseHandling
    ) throws -> AnnMatrix<Scalar> {
        let header = try matrixHeader()
        let rows = header.shape[0], cols = header.shape[1]
        switch header.encoding {
        case .denseArray:
            let values: [Scalar] = try datasetSource().readNumbers(as: Scalar.self, memoryType: h5NativeType(of: Scalar.self))
            return .dense(try Matrix(rows: rows, cols: cols, storage: values))
        case .csr, .csc:
            let format: SparseMatrix<Scalar>.Format = header.encoding == .csr ? .csr : .csc
            switch handling {
            case .keep:
                return .sparse(try readSparse(format: format, rows: rows, cols: cols, as: Scalar.self))
            case .csr:
                return .sparse(try readSparse(format: format, rows: rows, cols: cols, as: Scalar.self).csr())
            case .densify:
                break
            }
            if format == .csr {
                return .dense(try CSRDenseLoader.load(self, rows: rows, cols: cols, as: Scalar.self))
            }
            return .dense(try readSparse(format: format, rows: rows, cols: cols, as: Scalar.self).densified())
        default:
            throw unsupported(header.encoding, expected: "a dense array, csr_matrix or csc_matrix")
        }
    }

    private func readSparse<Scalar: BLASScalar>(
        format: SparseMatrix<Scalar>.Format, rows: Int, cols: Int, as _: Scalar.Type
    ) throws -> SparseMatrix<Scalar> {
        guard let dataNode = try child("data") else { throw missing("data") }
        guard let indicesNode = try child("indices") else { throw missing("indices") }
        guard let indptrNode = try child("indptr") else { throw missing("indptr") }
        let data: [Scalar] = try dataNode.datasetSource().readNumbers(
            as: Scalar.self, memoryType: h5NativeType(of: Scalar.self))
        let indices = try indicesNode.datasetSource().readNumbers(as: Int32.self)
        let indptr = try indptrNode.datasetSource().readNumbers(as: Int64.self).map { Int($0) }
        do {
            return try SparseMatrix(format: format, rows: rows, cols: cols, data: data, indices: indices, indptr: indptr)
        } catch let error as SparseLayoutError {
            throw layoutError("inconsistent \(format.rawValue) matrix: \(error.description)")
        }
    }

    /// Sum of all entries of a matrix element, read in blocks and accumulated in Double.
    func matrixSum() throws -> Double {
        let header = try matrixHeader()
        let target: H5Node
        switch header.encoding {
        case .csr, .csc:
            guard let data = try child("data") else { throw missing("data") }
            target = data
        default:
            target = self
        }
        let shape = try target.datasetSource().shape()
        guard let total = shape.first, total > 0 else { return 0 }
        let perRow = shape.dropFirst().reduce(1, *)
        let rowsPerBlock = max(1, (1 << 20) / max(1, perRow))
        var buffer = [Double](repeating: 0, count: rowsPerBlock * perRow)
        var sum = 0.0
        var start = 0
        while start < total {
            let count = min(rowsPerBlock, total - start)
            try buffer.withUnsafeMutableBufferPointer {
                try target.readRows(start: start, count: count, shape: shape, into: $0)
            }
            for value in buffer[0..<(count * perRow)] { sum += value }
            start += count
        }
        return sum
    }

    // MARK: Dataframes (obs, var)

    func readDataFrame(skipped: inout [String]) throws -> DataFrame {
        if try isCompoundDataset() { return try readCompoundDataFrame(skipped: &skipped) }
        let encoding = try elementEncoding()
        guard isGroup, encoding == .dataframe || encoding == .dictionary else {
            throw AnnDataError(
                .unsupportedEncoding, file: file, element: displayPath,
                detail: "a \(isGroup ? "group" : "dataset") encoded as '\(encoding.name)' is not an anndata dataframe "
                    + "(perturbot reads the layouts of anndata 0.6 (compound datasets), 0.7 and ≥ 0.8 (dataframe groups)); "
                    + "rewrite the file with current anndata: python -c \"import anndata; "
                    + "anndata.read_h5ad('IN.h5ad').write_h5ad('OUT.h5ad')\"")
        }
        let (indexName, index) = try readDataFrameIndex()
        var frame = DataFrame(index: index, indexName: indexName)
        var names = try stringArrayAttribute("column-order")
            ?? childNames().filter { $0 != indexName && $0 != "__categories" }
        names.removeAll { $0 == indexName }
        for name in names {
            guard let columnNode = try child(name) else { throw missing(name) }
            guard let column = try columnNode.readColumn(skipped: &skipped) else { continue }
            do {
                try frame.setColumn(name, column)
            } catch let error as ColumnLengthError {
                throw columnNode.layoutError(error.description)
            }
        }
        return frame
    }

    /// The index of a dataframe element (obs, var) and its name, without its columns: the
    /// `_index` dataset of a group, or the first field of an anndata 0.6 compound dataset.
    func readDataFrameIndex() throws -> (name: String, labels: [String]) {
        if try isCompoundDataset() {
            guard let first = try compoundMembers().first else {
                throw layoutError("compound dataframe has no fields (the first field is the index)")
            }
            return (first.name, try memberSource(first).labels())
        }
        let indexName = try stringAttribute("_index") ?? "_index"
        guard let indexNode = try child(indexName) else { throw missing(indexName) }
        return (indexName, try indexNode.readLabels())
    }

    /// Strings, or numbers written as strings (a numeric index or numeric categories); a
    /// nullable string array must have no missing entry.
    func readLabels() throws -> [String] {
        if isGroup, try elementEncoding() == .nullableStringArray {
            let (values, mask) = try readNullableStrings()
            if let missing = mask.firstIndex(of: true) { throw layoutError("entry \(missing) is missing (labels must all be present)") }
            return values
        }
        return try datasetSource().labels()
    }

    /// The `values` and `mask` of a nullable string array.
    func readNullableStrings() throws -> (values: [String], mask: [Bool]) {
        guard let valuesNode = try child("values") else { throw missing("values") }
        let values = try valuesNode.datasetSource().readStrings()
        let mask = try child("mask").map { try $0.datasetSource().readBools() } ?? Array(repeating: false, count: values.count)
        guard mask.count == values.count else {
            throw layoutError("mask has \(mask.count) entries for \(values.count) values")
        }
        return (values, mask)
    }

    /// One dataframe column; nil (and an entry in `skipped`) for encodings perturbot does not load.
    func readColumn(skipped: inout [String]) throws -> Column? {
        let encoding = try elementEncoding()
        switch encoding {
        case .categorical:
            guard let categoriesNode = try child("categories") else { throw missing("categories") }
            guard let codesNode = try child("codes") else { throw missing("codes") }
            return try makeCategorical(
                categories: categoriesNode.readLabels(),
                codes: codesNode.datasetSource().readNumbers(as: Int32.self),
                ordered: boolAttribute("ordered") ?? false)
        case .legacyCategorical:
            guard let categoriesNode = try referencedNode(attribute: "categories") else {
                throw layoutError("attribute 'categories' should reference the categories dataset")
            }
            return try makeCategorical(
                categories: categoriesNode.readLabels(),
                codes: datasetSource().readNumbers(as: Int32.self),
                ordered: boolAttribute("ordered") ?? false)
        case .stringArray:
            return .string(try datasetSource().readStrings())
        case .nullableStringArray:
            // Missing entries become a categorical's missing code; a column without them stays text.
            let (values, mask) = try readNullableStrings()
            guard mask.contains(true) else { return .string(values) }
            let categories = Array(Set(zip(values, mask).filter { !$0.1 }.map(\.0))).sorted()
            let code = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, Int32($0)) })
            return try makeCategorical(categories: categories,
                                       codes: zip(values, mask).map { $0.1 ? -1 : (code[$0.0] ?? -1) }, ordered: false)
        case .denseArray:
            let source = try datasetSource()
            guard try source.shape().count == 1 else {
                skipped.append("\(displayPath): multi-dimensional column is not loaded")
                return nil
            }
            return try source.column(displayPath: displayPath, skipped: &skipped)
        default:
            skipped.append("\(displayPath): column encoding '\(encoding.name)' is not loaded")
            return nil
        }
    }

    private func makeCategorical(categories: [String], codes: [Int32], ordered: Bool) throws -> Column {
        do {
            return .categorical(try Categorical(categories: categories, codes: codes, ordered: ordered))
        } catch let error as CategoricalCodeError {
            throw layoutError(error.description)
        }
    }

    // MARK: uns

    /// - Parameter excluding: names already used elsewhere (0.6's `<column>_categories`).
    func readUns(skipped: inout [String], excluding: Set<String> = []) throws -> [String: UnsValue] {
        var result: [String: UnsValue] = [:]
        for name in try childNames() where !excluding.contains(name) {
            guard let node = try child(name) else { continue }
            if let value = try node.readUnsValue(skipped: &skipped) { result[name] = value }
        }
        return result
    }

    private func readUnsValue(skipped: inout [String]) throws -> UnsValue? {
        let encoding = try elementEncoding()
        if encoding == .dictionary && isGroup {
            return .dictionary(try readUns(skipped: &skipped))
        }
        guard isDataset else {
            skipped.append("\(displayPath): '\(encoding.name)' in uns is not loaded")
            return nil
        }
        let source = try datasetSource()
        guard try source.shape().isEmpty else {
            skipped.append("\(displayPath): arrays in uns are not loaded")
            return nil
        }
        switch source.elementType {
        case .string: return .string(try source.readStrings()[0])
        case .bool: return .bool(try source.readBools()[0])
        case .integer: return .integer(try source.readNumbers(as: Int64.self)[0])
        case .float: return .double(try source.readNumbers(as: Double.self)[0])
        default:
            skipped.append("\(displayPath): \(source.elementType.numpyName) in uns is not loaded")
            return nil
        }
    }
}
