import LinearAlgebra

/// Loads a CSR matrix element straight into a dense matrix, one block of rows at a time.
///
/// The calling thread reads block k+1 of `data`/`indices` from HDF5 (which must stay on one
/// thread) while a worker zeroes the dense rows of block k and scatters its entries into them,
/// so the 1.6 GB output of a 200k × 2k matrix is written once, overlapped with the read, and
/// the sparse arrays are never held whole.
enum CSRDenseLoader {
    /// Stored entries per block: large enough to amortise HDF5 call overhead, small enough
    /// to keep the two block buffers in cache-friendly sizes.
    static let defaultEntriesPerBlock = 1 << 20

    static func load<Scalar: BLASScalar>(
        _ group: H5Node, rows: Int, cols: Int, as _: Scalar.Type,
        entriesPerBlock: Int = defaultEntriesPerBlock
    ) throws -> Matrix<Scalar> {
        guard let dataNode = try group.child("data"),
              let indicesNode = try group.child("indices"),
              let indptrNode = try group.child("indptr") else {
            throw group.layoutError("CSR matrix needs datasets data, indices and indptr")
        }
        let dataSource = try dataNode.datasetSource()
        let entryCount = try dataSource.elementCount()
        guard try indicesNode.datasetSource().elementCount() == entryCount else {
            throw group.layoutError("inconsistent csr matrix: data and indices differ in length")
        }
        let indptr = try indptrNode.datasetSource().readNumbers(as: Int64.self).map { Int($0) }
        guard indptr.count == rows + 1, indptr.first == 0, indptr.last == entryCount,
              zip(indptr, indptr.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw group.layoutError(
                "inconsistent csr matrix: indptr must have \(rows + 1) non-decreasing entries from 0 to \(entryCount)")
        }

        let width = MemoryLayout<Scalar>.stride
        let capacity = max(1, min(entryCount, entriesPerBlock) + cols)
        let valueBuffers = (0..<2).map { _ in UnsafeMutableRawPointer.allocate(byteCount: capacity * width, alignment: 16) }
        let indexBuffers = (0..<2).map { _ in UnsafeMutablePointer<Int32>.allocate(capacity: capacity) }
        defer {
            valueBuffers.forEach { $0.deallocate() }
            indexBuffers.forEach { $0.deallocate() }
        }

        let storage: [Scalar] = try LargeArrays.make(count: rows * cols) { dense in
            let target = UncheckedSendable(UnsafeMutableRawPointer(dense.baseAddress))
            let pointers = UncheckedSendable(indptr)
            var pending: BackgroundResult<Bool>?
            var allIndicesValid = true
            var slot = 0
            var firstRow = 0
            while firstRow < rows {
                // Grow the block while it fits the buffers (always at least one row).
                var lastRow = firstRow + 1
                while lastRow < rows, indptr[lastRow + 1] - indptr[firstRow] <= capacity - cols,
                      indptr[lastRow + 1] - indptr[firstRow] <= entriesPerBlock {
                    lastRow += 1
                }
                let entries = indptr[lastRow] - indptr[firstRow]
                guard entries <= capacity else {
                    // Only a row with more stored entries than columns (duplicates) gets here.
                    throw group.layoutError("inconsistent csr matrix: row \(firstRow) has \(entries) entries for \(cols) columns")
                }
                try dataNode.readRows(start: indptr[firstRow], count: entries, shape: [entryCount],
                                      memoryType: h5NativeType(of: Scalar.self), into: valueBuffers[slot])
                try indicesNode.readRows(start: indptr[firstRow], count: entries, shape: [entryCount],
                                         memoryType: Int32.h5NativeType, into: UnsafeMutableRawPointer(indexBuffers[slot]))
                if let previous = pending { allIndicesValid = previous.take() && allIndicesValid }
                let block = CSRBlock(rows: firstRow..<lastRow, cols: cols,
                                     values: UnsafeRawPointer(valueBuffers[slot]),
                                     indices: UnsafePointer(indexBuffers[slot]))
                pending = BackgroundResult {
                    guard let base = target.value else { return true }
                    return width == 4
                        ? block.scatter(UInt32.self, into: base, indptr: pointers.value)
                        : block.scatter(UInt64.self, into: base, indptr: pointers.value)
                }
                slot ^= 1
                firstRow = lastRow
            }
            if let previous = pending { allIndicesValid = previous.take() && allIndicesValid }
            guard allIndicesValid else {
                throw group.layoutError("inconsistent csr matrix: a column index is outside 0..<\(cols)")
            }
        }
        return try Matrix(rows: rows, cols: cols, storage: storage)
    }
}

/// One block of CSR rows whose entries sit in a read buffer.
private struct CSRBlock: @unchecked Sendable {
    let rows: Range<Int>
    let cols: Int
    let values: UnsafeRawPointer
    let indices: UnsafePointer<Int32>

    /// Zeroes the block's dense rows and writes its entries as `Word`-wide bit patterns;
    /// false when a column index is out of range (that entry is skipped).
    func scatter<Word: FixedWidthInteger>(_: Word.Type, into target: UnsafeMutableRawPointer, indptr: [Int]) -> Bool {
        let dense = target.assumingMemoryBound(to: Word.self)
        let words = values.assumingMemoryBound(to: Word.self)
        let offset = indptr[rows.lowerBound]
        var valid = true
        for row in rows {
            let rowStart = dense + row * cols
            rowStart.initialize(repeating: 0, count: cols)
            for p in (indptr[row] - offset)..<(indptr[row + 1] - offset) {
                let column = Int(indices[p])
                guard column >= 0 && column < cols else { valid = false; continue }
                rowStart[column] = words[p]
            }
        }
        return valid
    }
}
