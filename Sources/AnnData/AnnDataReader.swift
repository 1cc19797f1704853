import LinearAlgebra

/// Reads `.h5ad` files written by anndata ≥ 0.8, by anndata 0.7 (whose categoricals keep
/// their categories under `obs/__categories/<column>`, referenced from the codes dataset) and
/// by anndata 0.6 (compound datasets; see `LegacyLayout`).
public enum AnnDataReader {
    /// What to do with a sparse `X` or layer.
    public enum SparseHandling: Sendable {
        /// Keep CSR/CSC as stored.
        case keep
        /// Sparse, converted to CSR when stored as CSC.
        case csr
        /// Expand to a dense matrix.
        case densify
    }

    /// Reads only `uns` of the file at `path` (legacy category arrays included as they are).
    /// - Throws: `AnnDataError` naming the file when it cannot be opened or `uns` not read.
    public static func readUns(_ path: String) throws -> [String: UnsValue] {
        try HDF5Library.withLock {
            let root = try H5File.openRoot(path)
            var skipped: [String] = []
            return try root.child("uns").map { try $0.readUns(skipped: &skipped, excluding: []) } ?? [:]
        }
    }

    /// Reads the whole file at `path` with numeric data converted to `Scalar`.
    ///
    /// - Parameters:
    ///   - requireX: throw `missingElement` when the file has no `X` (otherwise `X` is nil).
    /// - Throws: `AnnDataError` naming the file and the element that could not be read.
    public static func read<Scalar: BLASScalar>(
        _ path: String, as _: Scalar.Type = Float.self,
        sparse: SparseHandling = .keep, requireX: Bool = true
    ) throws -> AnnData<Scalar> {
        try HDF5Library.withLock {
            let root = try H5File.openRoot(path)
            var skipped: [String] = []

            var x: AnnMatrix<Scalar>?
            var xElementType: String?
            if let xNode = try root.child("X") {
                xElementType = try xNode.matrixHeader().dtype.numpyName
                x = try xNode.readMatrix(as: Scalar.self, sparse: sparse)
            } else if requireX {
                throw AnnDataError(.missingElement, file: path, element: "X",
                                   detail: "element is missing (the file has no X matrix)")
            }

            let (obs, variables, consumedUns) = try annotations(root, path: path, skipped: &skipped)
            if let x, x.rows != obs.rowCount || x.cols != variables.rowCount {
                throw AnnDataError(.invalidLayout, file: path, element: "X",
                                   detail: "shape \(x.rows)×\(x.cols) does not match obs (\(obs.rowCount)) × var (\(variables.rowCount))")
            }

            var obsm: [String: Matrix<Scalar>] = [:]
            if let obsmNode = try root.child("obsm"), try obsmNode.isCompoundDataset() {
                for (name, matrix) in try obsmNode.readCompoundMatrices(as: Scalar.self) {
                    guard matrix.rows == obs.rowCount else {
                        throw obsmNode.layoutError("expected one row per observation (\(obs.rowCount)), found \(matrix.rows)")
                    }
                    obsm[name] = matrix
                }
            } else if let obsmNode = try root.child("obsm") {
                for name in try obsmNode.childNames() {
                    guard let node = try obsmNode.child(name) else { continue }
                    guard node.isDataset, try node.elementEncoding() == .denseArray else {
                        skipped.append("\(node.displayPath): only dense obsm arrays are loaded")
                        continue
                    }
                    guard case .dense(let matrix) = try node.readMatrix(as: Scalar.self, sparse: .densify),
                          matrix.rows == obs.rowCount else {
                        throw node.layoutError("expected a matrix with one row per observation (\(obs.rowCount))")
                    }
                    obsm[name] = matrix
                }
            }

            var layers: [String: AnnMatrix<Scalar>] = [:]
            if let layersNode = try root.child("layers") {
                for name in try layersNode.childNames() {
                    guard let node = try layersNode.child(name) else { continue }
                    let layer = try node.readMatrix(as: Scalar.self, sparse: sparse)
                    guard layer.rows == obs.rowCount, layer.cols == variables.rowCount else {
                        throw node.layoutError("shape \(layer.rows)×\(layer.cols) differs from X's \(obs.rowCount)×\(variables.rowCount)")
                    }
                    layers[name] = layer
                }
            }

            let uns = try root.child("uns").map { try $0.readUns(skipped: &skipped, excluding: consumedUns) } ?? [:]
            let raw = try readRaw(root, as: Scalar.self, rows: obs.rowCount, sparse: sparse, skipped: &skipped)

            let known: Set<String> = ["X", "obs", "var", "obsm", "layers", "uns", "raw", "raw.X", "raw.var", "raw.varm"]
            for name in try root.childNames() where !known.contains(name) {
                guard let node = try root.child(name) else { continue }
                if node.isGroup, try node.childNames().isEmpty { continue }
                skipped.append("\(name): not loaded")
            }

            var result = AnnData(X: x, obs: obs, var: variables, obsm: obsm, layers: layers, uns: uns,
                                 xElementType: xElementType)
            result.raw = raw
            result.skippedElements = skipped
            result.source = path
            return result
        }
    }

    /// obs and var alone (legacy categories applied), without X, obsm, layers, uns or raw: for a
    /// caller that needs a cell annotation of a file whose matrix it does not read.
    public static func readAnnotations(_ path: String) throws -> AnnData<Float> {
        try HDF5Library.withLock {
            let root = try H5File.openRoot(path)
            var skipped: [String] = []
            let (obs, variables, _) = try annotations(root, path: path, skipped: &skipped)
            var result = AnnData<Float>(X: nil, obs: obs, var: variables)
            result.skippedElements = skipped
            result.source = path
            return result
        }
    }

    /// obs and var, with the categories of the anndata 0.6 layout applied, and the uns keys that
    /// layout consumed.
    private static func annotations(_ root: H5Node, path: String, skipped: inout [String]) throws
        -> (obs: DataFrame, variables: DataFrame, consumedUns: Set<String>) {
        var obs = try requiredDataFrame(root, "obs", skipped: &skipped)
        var variables = try requiredDataFrame(root, "var", skipped: &skipped)
        guard try LegacyLayout.isPresent(in: root) else { return (obs, variables, []) }
        var frames = [obs, variables]
        let consumed = try LegacyLayout.applyCategories(LegacyLayout.categories(in: root), to: &frames, file: path)
        obs = frames[0]
        variables = frames[1]
        return (obs, variables, consumed)
    }

    /// The obs names (the cells' index) alone, without reading X or the obs columns.
    public static func obsNames(_ path: String) throws -> [String] {
        try HDF5Library.withLock {
            let root = try H5File.openRoot(path)
            guard let obs = try root.child("obs") else {
                throw AnnDataError(.missingElement, file: path, element: "obs", detail: "element is missing")
            }
            return try obs.readDataFrameIndex().labels
        }
    }

    /// The elements of `adata.raw`: X and var, from `raw/` (anndata ≥ 0.7) or `raw.X` / `raw.var`
    /// (anndata 0.6), and the paths of its other elements, which perturbot does not read.
    static func rawElements(_ root: H5Node) throws -> (x: H5Node?, variables: H5Node?, unread: [String]) {
        if let group = try root.child("raw"), group.isGroup {
            let others = try group.childNames().filter { $0 != "X" && $0 != "var" }.map { "raw/\($0)" }
            return (try group.child("X"), try group.child("var"), others)
        }
        return (try root.child("raw.X"), try root.child("raw.var"), try root.hasChild("raw.varm") ? ["raw.varm"] : [])
    }

    /// `raw/X` + `raw/var` (anndata ≥ 0.7) or `raw.X` + `raw.var` (anndata 0.6); nil when absent.
    private static func readRaw<Scalar: BLASScalar>(
        _ root: H5Node, as _: Scalar.Type, rows: Int, sparse: SparseHandling, skipped: inout [String]
    ) throws -> RawAnnData<Scalar>? {
        let elements = try rawElements(root)
        skipped += elements.unread.map { "\($0): not loaded" }
        guard let xNode = elements.x else { return nil }
        let varNode = elements.variables
        let matrix = try xNode.readMatrix(as: Scalar.self, sparse: sparse)
        let variables = try varNode?.readDataFrame(skipped: &skipped)
            ?? DataFrame(index: (0..<matrix.cols).map(String.init))
        guard matrix.rows == rows, matrix.cols == variables.rowCount else {
            throw xNode.layoutError("shape \(matrix.rows)×\(matrix.cols) does not match obs (\(rows)) × raw var (\(variables.rowCount))")
        }
        return RawAnnData(X: matrix, var: variables)
    }

    private static func requiredDataFrame(_ root: H5Node, _ name: String, skipped: inout [String]) throws -> DataFrame {
        guard let node = try root.child(name) else {
            throw AnnDataError(.missingElement, file: root.file, element: name, detail: "element is missing")
        }
        return try node.readDataFrame(skipped: &skipped)
    }
}
