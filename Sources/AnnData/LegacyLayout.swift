import LinearAlgebra

/// The anndata 0.6 on-disk layout (files written before anndata 0.7, such as scanpy's bundled
/// `pbmc68k_reduced`): obs and var are compound datasets whose first field is the index,
/// categorical columns are integer codes whose categories sit in `uns/<column>_categories`,
/// obsm and varm are compound datasets with one array field per key, and raw is stored as
/// the top-level elements `raw.X`, `raw.var` and `raw.varm`.
///
/// Read the way anndata 0.12 reads it (`read_dataframe_legacy`, `_clean_uns`,
/// `_read_legacy_raw`): a `<column>_categories` entry turns the column of that name in obs
/// and in var into a categorical wherever every code is below the number of categories, and
/// is then dropped from uns.
enum LegacyLayout {
    /// Whether the file's obs is a compound dataset, i.e. the file uses the 0.6 layout.
    static func isPresent(in root: H5Node) throws -> Bool {
        guard let obs = try root.child("obs") else { return false }
        return try obs.isCompoundDataset()
    }

    /// `uns/<column>_categories` entries: column name → (uns key, categories).
    static func categories(in root: H5Node) throws -> [(column: String, unsKey: String, categories: [String])] {
        guard let uns = try root.child("uns"), uns.isGroup else { return [] }
        let suffix = "_categories"
        var found: [(String, String, [String])] = []
        for key in try uns.childNames() where key.hasSuffix(suffix) && key.count > suffix.count {
            guard let node = try uns.child(key), node.isDataset else { continue }
            found.append((String(key.dropLast(suffix.count)), key, try node.readLabels()))
        }
        return found
    }

    /// Turns integer code columns into categoricals as anndata does; returns the uns keys used.
    static func applyCategories(
        _ categories: [(column: String, unsKey: String, categories: [String])],
        to frames: inout [DataFrame], file: String
    ) throws -> Set<String> {
        var used: Set<String> = []
        for entry in categories {
            for index in frames.indices {
                guard case .integer(let codes) = frames[index][entry.column],
                      codes.allSatisfy({ $0 < Int64(entry.categories.count) }) else { continue }
                guard codes.allSatisfy({ $0 >= -1 }) else {
                    throw AnnDataError(.invalidLayout, file: file, element: entry.column,
                                       detail: "categorical codes below -1 (categories in uns/\(entry.unsKey))")
                }
                let categorical = try Categorical(categories: entry.categories, codes: codes.map { Int32($0) })
                try frames[index].setColumn(entry.column, .categorical(categorical))
                used.insert(entry.unsKey)
            }
        }
        return used
    }
}

extension H5Node {
    /// A 0.6-layout dataframe: the first field is the index, every other scalar field a column
    /// (categorical codes stay integers until `LegacyLayout.applyCategories`).
    func readCompoundDataFrame(skipped: inout [String]) throws -> DataFrame {
        let (indexName, index) = try readDataFrameIndex()
        var frame = DataFrame(index: index, indexName: indexName)
        for member in try compoundMembers().dropFirst() {
            let path = "\(displayPath)/\(member.name)"
            if member.arrayDimensions() != nil {
                skipped.append("\(path): multi-dimensional column is not loaded")
                continue
            }
            guard let column = try memberSource(member).column(displayPath: path, skipped: &skipped) else { continue }
            do {
                try frame.setColumn(member.name, column)
            } catch let error as ColumnLengthError {
                throw layoutError(error.description)
            }
        }
        return frame
    }

    /// A 0.6-layout obsm/varm: each array field is one matrix (a scalar field is one column).
    func readCompoundMatrices<Scalar: BLASScalar>(as _: Scalar.Type) throws -> [(key: String, matrix: Matrix<Scalar>)] {
        var matrices: [(key: String, matrix: Matrix<Scalar>)] = []
        for member in try compoundMembers() {
            if member.arrayDimensions() != nil {
                matrices.append((member.name, try readArrayMember(member, as: Scalar.self)))
            } else {
                let values = try memberSource(member).readNumbers(as: Scalar.self, memoryType: h5NativeType(of: Scalar.self))
                matrices.append((member.name, try Matrix(rows: values.count, cols: 1, storage: values)))
            }
        }
        return matrices
    }

    /// Shapes of a 0.6-layout obsm/varm without reading its values.
    func compoundMatrixShapes() throws -> [(key: String, shape: [Int])] {
        let rows = try datasetSource().elementCount()
        return try compoundMembers().map { member in
            (member.name, [rows, member.arrayDimensions()?.reduce(1, *) ?? 1])
        }
    }
}
