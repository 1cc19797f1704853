import LinearAlgebra

/// Reads `.h5ad` files written by anndata ≥ 0.8 and by anndata 0.7 (whose categoricals keep
/// their categories under `obs/__categories/<column>`, referenced from the codes dataset).
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

            let obs = try requiredDataFrame(root, "obs", skipped: &skipped)
            let variables = try requiredDataFrame(root, "var", skipped: &skipped)
            if let x, x.rows != obs.rowCount || x.cols != variables.rowCount {
                throw AnnDataError(.invalidLayout, file: path, element: "X",
                                   detail: "shape \(x.rows)×\(x.cols) does not match obs (\(obs.rowCount)) × var (\(variables.rowCount))")
            }

            var obsm: [String: Matrix<Scalar>] = [:]
            if let obsmNode = try root.child("obsm") {
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

            let uns = try root.child("uns").map { try $0.readUns(skipped: &skipped) } ?? [:]

            let known: Set<String> = ["X", "obs", "var", "obsm", "layers", "uns"]
            for name in try root.childNames() where !known.contains(name) {
                guard let node = try root.child(name) else { continue }
                if node.isGroup, try node.childNames().isEmpty { continue }
                skipped.append("\(name): not loaded")
            }

            var result = AnnData(X: x, obs: obs, var: variables, obsm: obsm, layers: layers, uns: uns,
                                 xElementType: xElementType)
            result.skippedElements = skipped
            result.source = path
            return result
        }
    }

    private static func requiredDataFrame(_ root: H5Node, _ name: String, skipped: inout [String]) throws -> DataFrame {
        guard let node = try root.child(name) else {
            throw AnnDataError(.missingElement, file: root.file, element: name, detail: "element is missing")
        }
        return try node.readDataFrame(skipped: &skipped)
    }
}
