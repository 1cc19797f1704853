import Foundation
import LinearAlgebra

/// A point-cloud file that cannot be read, with where and what was expected.
public struct PointCloudFileError: Error, Equatable, CustomStringConvertible {
    public let path: String
    /// "line 3", "line 3, column 2", a header field, … ; empty when the whole file is at fault.
    public let location: String
    public let message: String

    public var description: String {
        location.isEmpty ? "\(path): \(message)" : "\(path): \(location): \(message)"
    }
}

/// Reads and writes point clouds (one point per row) for the `perturbot ot` command:
/// CSV (numbers only, comma-separated), NumPy `.npy` (2-D float32/float64/int32/int64,
/// C or Fortran order), and `.h5ad` (X made dense, or one `obsm` entry).
///
/// Every value is checked: ragged rows, text, NaN and infinities, empty files and truncated
/// files are errors naming the file and the line or header field.
public enum PointCloudFile {
    public static func read(_ path: String, obsm key: String? = nil) throws -> Matrix<Double> {
        let lowered = path.lowercased()
        if key != nil, !lowered.hasSuffix(".h5ad") {
            throw PointCloudFileError(path: path, location: "", message: "--obsm applies to .h5ad files only")
        }
        let cloud: Matrix<Double>
        if lowered.hasSuffix(".npy") {
            cloud = try readNumpy(path)
        } else if lowered.hasSuffix(".h5ad") {
            cloud = try readAnnData(path, obsm: key)
        } else {
            cloud = try readCSV(path)
        }
        guard cloud.rows > 0, cloud.cols > 0 else {
            throw PointCloudFileError(path: path, location: "",
                                      message: "no points (expected at least one row with at least one coordinate)")
        }
        if let bad = cloud.storage.firstIndex(where: { !$0.isFinite }) {
            throw PointCloudFileError(path: path, location: "point \(bad / cloud.cols + 1), coordinate \(bad % cloud.cols + 1)",
                                      message: "\(cloud.storage[bad]) is not a finite number")
        }
        return cloud
    }

    // MARK: CSV

    /// Numbers only: no header, `,` between values, the same count on every line; blank
    /// lines are skipped.
    public static func readCSV(_ path: String) throws -> Matrix<Double> {
        var bytes = try contents(path)
        bytes.append(0)  // strtod stops at the terminator
        var values: [Double] = []
        var columns = -1, rows = 0
        try bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let end = buffer.count - 1
            var position = 0, line = 0
            while position < end {
                line += 1
                var lineEnd = position
                while lineEnd < end, base[lineEnd] != 0x0A { lineEnd += 1 }
                var contentEnd = lineEnd
                if contentEnd > position, base[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                let count = try parseLine(base, from: position, to: contentEnd, line: line, path: path, into: &values)
                if count > 0 {
                    if columns < 0 { columns = count }
                    guard count == columns else {
                        throw PointCloudFileError(path: path, location: "line \(line)",
                                                  message: "expected \(columns) values (as on the first row), found \(count)")
                    }
                    rows += 1
                }
                // A writer ends every row with a line break; a file that stops inside its last
                // row may have been cut in the middle of a number, which would still parse.
                if lineEnd == end, count > 0 {
                    throw PointCloudFileError(path: path, location: "line \(line)",
                                              message: "the last row has no line break at its end, so the file may be cut off in the middle of a number (add a line break if the row is complete)")
                }
                position = lineEnd + 1
            }
        }
        return try Matrix(rows: rows, cols: Swift.max(columns, 0), storage: values)
    }

    /// Parses one line's comma-separated numbers into `values`; returns how many (0 for a blank line).
    private static func parseLine(
        _ base: UnsafePointer<UInt8>, from start: Int, to end: Int, line: Int, path: String, into values: inout [Double]
    ) throws -> Int {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        var position = start
        while position < end, isSpace(base[position]) { position += 1 }
        if position == end { return 0 }
        var count = 0
        while true {
            count += 1
            let fieldStart = position
            var fieldEnd = position
            while fieldEnd < end, base[fieldEnd] != 0x2C { fieldEnd += 1 }
            var parsedEnd: UnsafeMutablePointer<CChar>?
            let value = base.withMemoryRebound(to: CChar.self, capacity: end + 1) { chars in
                strtod(chars + fieldStart, &parsedEnd)
            }
            var next = parsedEnd.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? fieldStart
            while next < fieldEnd, isSpace(base[next]) { next += 1 }
            let fieldIsBlank = (fieldStart..<fieldEnd).allSatisfy { isSpace(base[$0]) }
            guard next == fieldEnd, !fieldIsBlank, next > fieldStart else {
                let text = String(decoding: UnsafeBufferPointer(start: base + fieldStart, count: fieldEnd - fieldStart), as: UTF8.self)
                    .trimmingCharacters(in: .whitespaces)
                throw PointCloudFileError(
                    path: path, location: "line \(line), column \(count)",
                    message: text.isEmpty ? "empty value (expected a number)"
                        : "'\(text)' is not a number (the file must hold numbers only, no header)")
            }
            guard value.isFinite else {
                throw PointCloudFileError(path: path, location: "line \(line), column \(count)",
                                          message: "\(value) is not a finite number")
            }
            values.append(value)
            if fieldEnd >= end { return count }
            position = fieldEnd + 1
        }
    }

    /// Writes `points` as CSV (17 significant digits: Doubles round-trip exactly) through a
    /// temporary sibling file renamed into place, so a failure never leaves half a file.
    public static func writeCSV(_ points: Matrix<Double>, to path: String) throws {
        var text = ""
        text.reserveCapacity(points.rows * points.cols * 24)
        for i in 0..<points.rows {
            for j in 0..<points.cols {
                if j > 0 { text += "," }
                text += String(format: "%.17g", points[i, j])
            }
            text += "\n"
        }
        try AtomicFile.write(Data(text.utf8), to: path)
    }

    // MARK: h5ad

    private static func readAnnData(_ path: String, obsm key: String?) throws -> Matrix<Double> {
        let data = try AnnDataReader.read(path, as: Double.self, sparse: .densify, requireX: key == nil)
        if let key {
            guard let cloud = data.obsm[key] else {
                let available = data.obsm.keys.sorted().joined(separator: ", ")
                throw PointCloudFileError(path: path, location: "obsm/\(key)",
                                          message: "no such entry (obsm has: \(available.isEmpty ? "nothing" : available))")
            }
            return cloud
        }
        guard let x = data.X else { throw PointCloudFileError(path: path, location: "X", message: "missing") }
        return x.densified()
    }

    static func contents(_ path: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw PointCloudFileError(path: path, location: "", message: "no such file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PointCloudFileError(path: path, location: "", message: "cannot read the file")
        }
        return [UInt8](data)
    }
}
