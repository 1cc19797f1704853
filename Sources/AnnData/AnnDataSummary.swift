/// What `perturbot inspect` reports about an `.h5ad` file, gathered without loading X into
/// memory: X's sum is streamed in blocks.
public struct AnnDataSummary: Sendable, Equatable {
    public struct ObsColumn: Sendable, Equatable {
        public let name: String
        /// `categorical`, `string`, `numeric` or `bool`.
        public let type: String
        /// Cells per category in category order; empty unless categorical.
        public let categoryCounts: [(name: String, count: Int)]
        public let missing: Int

        public static func == (lhs: ObsColumn, rhs: ObsColumn) -> Bool {
            lhs.name == rhs.name && lhs.type == rhs.type && lhs.missing == rhs.missing
                && lhs.categoryCounts.map(\.name) == rhs.categoryCounts.map(\.name)
                && lhs.categoryCounts.map(\.count) == rhs.categoryCounts.map(\.count)
        }
    }

    public let nObs: Int
    public let nVars: Int
    /// `dense`, `csr` or `csc`.
    public let xEncoding: String
    /// numpy's name of the stored dtype.
    public let xDtype: String
    public private(set) var obs: [ObsColumn]
    /// obsm keys in file order with their shapes.
    public let obsm: [(key: String, shape: [Int])]
    /// Sum of all X entries, in Double.
    public let xSum: Double
    /// Elements not described (unsupported column encodings and the like).
    public let skipped: [String]
    /// var columns, described as obs's are.
    public var variables: [ObsColumn] = []
    /// varm keys in file order with their shapes.
    public var varm: [(key: String, shape: [Int])] = []
    /// `adata.raw`: its number of variables, X encoding and stored dtype; nil without raw.
    public var raw: (nVars: Int, xEncoding: String, xDtype: String)?
    /// Which anndata on-disk layout the file uses (`anndata ≥ 0.7` or `anndata 0.6`).
    public var layout: String = "anndata ≥ 0.7"

    public static func == (lhs: AnnDataSummary, rhs: AnnDataSummary) -> Bool {
        lhs.nObs == rhs.nObs && lhs.nVars == rhs.nVars && lhs.xEncoding == rhs.xEncoding
            && lhs.xDtype == rhs.xDtype && lhs.obs == rhs.obs && lhs.xSum == rhs.xSum
            && lhs.obsm.map(\.key) == rhs.obsm.map(\.key) && lhs.obsm.map(\.shape) == rhs.obsm.map(\.shape)
            && lhs.skipped == rhs.skipped && lhs.variables == rhs.variables
            && lhs.varm.map(\.key) == rhs.varm.map(\.key) && lhs.varm.map(\.shape) == rhs.varm.map(\.shape)
            && lhs.raw?.nVars == rhs.raw?.nVars && lhs.raw?.xEncoding == rhs.raw?.xEncoding
            && lhs.raw?.xDtype == rhs.raw?.xDtype && lhs.layout == rhs.layout
    }

    /// This summary with `obs` cut down to the column `name`.
    /// - Throws: `AnnDataError.missingObsColumn` when there is no such column.
    public func restrictingObs(to name: String, file: String) throws -> AnnDataSummary {
        guard let column = obs.first(where: { $0.name == name }) else {
            throw AnnDataError.missingObsColumn(name, available: obs.map(\.name), file: file)
        }
        var restricted = self
        restricted.obs = [column]
        return restricted
    }

    /// Summarises the file at `path`.
    /// - Throws: `AnnDataError` (missing file, not HDF5, corrupt, X missing, unsupported encoding…).
    public static func read(_ path: String) throws -> AnnDataSummary {
        try HDF5Library.withLock {
            let root = try H5File.openRoot(path)
            guard let xNode = try root.child("X") else {
                throw AnnDataError(.missingElement, file: path, element: "X",
                                   detail: "element is missing (the file has no X matrix)")
            }
            let header = try xNode.matrixHeader()
            let xSum = try xNode.matrixSum()

            var skipped: [String] = []
            guard let obsNode = try root.child("obs") else {
                throw AnnDataError(.missingElement, file: path, element: "obs", detail: "element is missing")
            }
            var frames = [try obsNode.readDataFrame(skipped: &skipped)]
            if let varNode = try root.child("var") { frames.append(try varNode.readDataFrame(skipped: &skipped)) }
            let legacy = try LegacyLayout.isPresent(in: root)
            if legacy {
                _ = try LegacyLayout.applyCategories(LegacyLayout.categories(in: root), to: &frames, file: path)
            }
            let obs = frames[0]
            guard obs.rowCount == header.shape[0] else {
                throw AnnDataError(.invalidLayout, file: path, element: "X",
                                   detail: "has \(header.shape[0]) rows but obs has \(obs.rowCount)")
            }
            let obsm = try root.child("obsm").map { try matrixShapes($0, rows: obs.rowCount, skipped: &skipped) } ?? []
            let varm = try root.child("varm").map { try matrixShapes($0, rows: header.shape[1], skipped: &skipped) } ?? []

            var raw: (nVars: Int, xEncoding: String, xDtype: String)?
            if let rawX = try AnnDataReader.rawElements(root).x {
                let rawHeader = try rawX.matrixHeader()
                raw = (rawHeader.shape[1], rawHeader.encoding.matrixLayoutName, rawHeader.dtype.numpyName)
            }

            var summary = AnnDataSummary(
                nObs: header.shape[0], nVars: header.shape[1], xEncoding: header.encoding.matrixLayoutName,
                xDtype: header.dtype.numpyName, obs: describe(obs), obsm: obsm, xSum: xSum, skipped: skipped)
            summary.variables = frames.count > 1 ? describe(frames[1]) : []
            summary.varm = varm
            summary.raw = raw
            summary.layout = legacy ? "anndata 0.6 (compound datasets)" : "anndata ≥ 0.7"
            return summary
        }
    }

    private static func describe(_ frame: DataFrame) -> [ObsColumn] {
        frame.columns.map { name, column -> ObsColumn in
            var counts: [(name: String, count: Int)] = []
            if case .categorical(let categorical) = column {
                counts = Array(zip(categorical.categories, categorical.counts)).map { ($0, $1) }
            }
            return ObsColumn(name: name, type: column.kindName, categoryCounts: counts, missing: column.missingCount)
        }
    }

    /// Keys and shapes of an obsm/varm element: a group of matrices, or 0.6's compound dataset.
    private static func matrixShapes(_ node: H5Node, rows: Int, skipped: inout [String]) throws -> [(key: String, shape: [Int])] {
        if try node.isCompoundDataset() { return try node.compoundMatrixShapes() }
        var shapes: [(key: String, shape: [Int])] = []
        for key in try node.childNames() {
            guard let child = try node.child(key) else { continue }
            if child.isDataset {
                shapes.append((key, try child.datasetSource().shape()))
            } else if let shape = try child.integerArrayAttribute("shape") {
                shapes.append((key, shape))
            } else if let columns = try child.stringArrayAttribute("column-order") {
                shapes.append((key, [rows, columns.count]))
            } else {
                skipped.append("\(child.displayPath): shape unknown")
            }
        }
        return shapes
    }
}
