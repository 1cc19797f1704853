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
    public let obs: [ObsColumn]
    /// obsm keys in file order with their shapes.
    public let obsm: [(key: String, shape: [Int])]
    /// Sum of all X entries, in Double.
    public let xSum: Double
    /// Elements not described (unsupported column encodings and the like).
    public let skipped: [String]

    public static func == (lhs: AnnDataSummary, rhs: AnnDataSummary) -> Bool {
        lhs.nObs == rhs.nObs && lhs.nVars == rhs.nVars && lhs.xEncoding == rhs.xEncoding
            && lhs.xDtype == rhs.xDtype && lhs.obs == rhs.obs && lhs.xSum == rhs.xSum
            && lhs.obsm.map(\.key) == rhs.obsm.map(\.key) && lhs.obsm.map(\.shape) == rhs.obsm.map(\.shape)
            && lhs.skipped == rhs.skipped
    }

    /// This summary with `obs` cut down to the column `name`.
    /// - Throws: `AnnDataError.missingObsColumn` when there is no such column.
    public func restrictingObs(to name: String, file: String) throws -> AnnDataSummary {
        guard let column = obs.first(where: { $0.name == name }) else {
            throw AnnDataError.missingObsColumn(name, available: obs.map(\.name), file: file)
        }
        return AnnDataSummary(nObs: nObs, nVars: nVars, xEncoding: xEncoding, xDtype: xDtype, obs: [column],
                              obsm: obsm, xSum: xSum, skipped: skipped)
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

            guard let obsNode = try root.child("obs") else {
                throw AnnDataError(.missingElement, file: path, element: "obs", detail: "element is missing")
            }
            var skipped: [String] = []
            let obs = try obsNode.readDataFrame(skipped: &skipped)
            guard obs.rowCount == header.shape[0] else {
                throw AnnDataError(.invalidLayout, file: path, element: "X",
                                   detail: "has \(header.shape[0]) rows but obs has \(obs.rowCount)")
            }

            var obsm: [(key: String, shape: [Int])] = []
            if let obsmNode = try root.child("obsm") {
                for key in try obsmNode.childNames() {
                    guard let node = try obsmNode.child(key) else { continue }
                    if node.isDataset {
                        obsm.append((key, try node.datasetSource().shape()))
                    } else if let shape = try node.integerArrayAttribute("shape") {
                        obsm.append((key, shape))
                    } else if let columns = try node.stringArrayAttribute("column-order") {
                        obsm.append((key, [obs.rowCount, columns.count]))
                    } else {
                        skipped.append("\(node.displayPath): shape unknown")
                    }
                }
            }

            let columns = obs.columns.map { name, column -> ObsColumn in
                var counts: [(name: String, count: Int)] = []
                if case .categorical(let categorical) = column {
                    counts = Array(zip(categorical.categories, categorical.counts)).map { ($0, $1) }
                }
                return ObsColumn(name: name, type: column.kindName, categoryCounts: counts,
                                 missing: column.missingCount)
            }
            return AnnDataSummary(
                nObs: header.shape[0], nVars: header.shape[1], xEncoding: header.encoding.matrixLayoutName,
                xDtype: header.dtype.numpyName, obs: columns, obsm: obsm, xSum: xSum, skipped: skipped)
        }
    }
}
