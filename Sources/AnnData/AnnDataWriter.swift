import Foundation
import LinearAlgebra

/// Writes `.h5ad` files in the layout of current anndata (encoding-type/-version attributes,
/// categorical groups, variable-length UTF-8 strings), which `anndata.read_h5ad` reads back.
///
/// The file is written to a temporary sibling and renamed into place, so a failed or
/// interrupted write never leaves a half-written file at `path`.
public enum AnnDataWriter {
    public static func write<Scalar: BLASScalar>(_ data: AnnData<Scalar>, to path: String) throws {
        if let x = data.X, x.rows != data.nObs || x.cols != data.nVars {
            throw AnnDataError(.writeFailed, file: path, element: "X",
                               detail: "shape \(x.rows)×\(x.cols) does not match obs (\(data.nObs)) × var (\(data.nVars))")
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try HDF5Library.withLock {
                let root = try H5File.createRoot(temporary.path, displayName: path)
                try root.setEncoding("anndata", version: "0.1.0")
                if let x = data.X { try writeMatrix(x, named: "X", in: root) }
                try writeDataFrame(data.obs, named: "obs", in: root)
                try writeDataFrame(data.var, named: "var", in: root)
                let obsm = try dictionaryGroup("obsm", in: root)
                for (key, matrix) in data.obsm.sorted(by: { $0.key < $1.key }) {
                    try writeMatrix(.dense(matrix), named: key, in: obsm)
                }
                let layers = try dictionaryGroup("layers", in: root)
                for (key, layer) in data.layers.sorted(by: { $0.key < $1.key }) {
                    try writeMatrix(layer, named: key, in: layers)
                }
                for empty in ["varm", "obsp", "varp"] { _ = try dictionaryGroup(empty, in: root) }
                try writeUns(data.uns, in: try dictionaryGroup("uns", in: root))
            }
            // The root group (and with it the file) is closed when `withLock` returns.
            // rename(2) replaces an existing file atomically.
            if rename(temporary.path, path) != 0 {
                throw AnnDataError(.writeFailed, file: path,
                                   detail: "could not move the finished file into place (\(String(cString: strerror(errno))))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if let error = error as? AnnDataError { throw error }
            throw AnnDataError(.writeFailed, file: path, detail: "\(error.localizedDescription)")
        }
    }

    private static func dictionaryGroup(_ name: String, in parent: H5Node) throws -> H5Node {
        let group = try parent.createGroup(name)
        try group.setEncoding("dict", version: "0.1.0")
        return group
    }

    private static func writeNumbers<Scalar: BLASScalar>(
        _ values: [Scalar], _ name: String, shape: [Int], in parent: H5Node
    ) throws -> H5Node {
        if let floats = values as? [Float] { return try parent.writeNumbers(name, floats, shape: shape) }
        return try parent.writeNumbers(name, values.map { Double($0) }, shape: shape)
    }

    private static func writeMatrix<Scalar: BLASScalar>(
        _ matrix: AnnMatrix<Scalar>, named name: String, in parent: H5Node
    ) throws {
        switch matrix {
        case .dense(let dense):
            let node = try writeNumbers(dense.storage, name, shape: [dense.rows, dense.cols], in: parent)
            try node.setEncoding("array", version: "0.2.0")
        case .sparse(let sparse):
            let group = try parent.createGroup(name)
            try group.setEncoding(sparse.format == .csr ? "csr_matrix" : "csc_matrix", version: "0.1.0")
            try group.setAttribute("shape", integers: [Int64(sparse.rows), Int64(sparse.cols)])
            _ = try writeNumbers(sparse.data, "data", shape: [sparse.data.count], in: group)
            try group.writeNumbers("indices", sparse.indices, shape: [sparse.indices.count])
            try group.writeNumbers("indptr", sparse.indptr.map { Int64($0) }, shape: [sparse.indptr.count])
        }
    }

    private static func writeDataFrame(_ frame: DataFrame, named name: String, in parent: H5Node) throws {
        let group = try parent.createGroup(name)
        try group.setEncoding("dataframe", version: "0.2.0")
        try group.setAttribute("_index", string: frame.indexName)
        try group.setAttribute("column-order", strings: frame.columnNames)
        let index = try group.writeStrings(frame.indexName, frame.index, shape: [frame.rowCount])
        try index.setEncoding("string-array", version: "0.2.0")
        for (columnName, column) in frame.columns {
            try writeColumn(column, named: columnName, in: group)
        }
    }

    private static func writeColumn(_ column: Column, named name: String, in group: H5Node) throws {
        let count = column.count
        switch column {
        case .categorical(let categorical):
            let node = try group.createGroup(name)
            try node.setEncoding("categorical", version: "0.2.0")
            try node.setAttribute("ordered", bool: categorical.ordered)
            let categories = try node.writeStrings("categories", categorical.categories,
                                                   shape: [categorical.categories.count])
            try categories.setEncoding("string-array", version: "0.2.0")
            // pandas picks the smallest signed integer type that holds every code.
            let codes: H5Node
            switch categorical.categories.count {
            case ..<128: codes = try node.writeNumbers("codes", categorical.codes.map { Int8($0) }, shape: [count])
            case ..<32768: codes = try node.writeNumbers("codes", categorical.codes.map { Int16($0) }, shape: [count])
            default: codes = try node.writeNumbers("codes", categorical.codes, shape: [count])
            }
            try codes.setEncoding("array", version: "0.2.0")
        case .string(let values):
            try group.writeStrings(name, values, shape: [count]).setEncoding("string-array", version: "0.2.0")
        case .integer(let values):
            try group.writeNumbers(name, values, shape: [count]).setEncoding("array", version: "0.2.0")
        case .double(let values):
            try group.writeNumbers(name, values, shape: [count]).setEncoding("array", version: "0.2.0")
        case .bool(let values):
            try group.writeBools(name, values, shape: [count]).setEncoding("array", version: "0.2.0")
        }
    }

    private static func writeUns(_ uns: [String: UnsValue], in group: H5Node) throws {
        for (key, entry) in uns.sorted(by: { $0.key < $1.key }) {
            switch entry {
            case .string(let value):
                try group.writeStrings(key, [value], shape: []).setEncoding("string", version: "0.2.0")
            case .integer(let value):
                try group.writeNumbers(key, [value], shape: []).setEncoding("numeric-scalar", version: "0.2.0")
            case .double(let value):
                try group.writeNumbers(key, [value], shape: []).setEncoding("numeric-scalar", version: "0.2.0")
            case .bool(let value):
                try group.writeBools(key, [value], shape: []).setEncoding("numeric-scalar", version: "0.2.0")
            case .dictionary(let nested):
                try writeUns(nested, in: try dictionaryGroup(key, in: group))
            }
        }
    }
}
