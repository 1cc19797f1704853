import Foundation
import LinearAlgebra

extension PointCloudFile {
    /// A NumPy `.npy` file (format versions 1–3): a 2-D array of little-endian float32,
    /// float64, int32 or int64, in C or Fortran order.
    public static func readNumpy(_ path: String) throws -> Matrix<Double> {
        let bytes = try contents(path)
        func fail(_ location: String, _ message: String) -> PointCloudFileError {
            PointCloudFileError(path: path, location: location, message: message)
        }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw fail("", "not a NumPy .npy file (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("header", "truncated") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw fail("header", "format version \(major) is not supported (expected 1, 2 or 3)")
        }
        guard bytes.count >= headerStart + headerLength else { throw fail("header", "truncated") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)

        guard let descr = quotedValue(of: "descr", in: header) else { throw fail("header", "no 'descr' field") }
        let itemSize: Int
        switch descr {
        case "<f4", "<i4": itemSize = 4
        case "<f8", "<i8": itemSize = 8
        default:
            throw fail("header 'descr'", "dtype '\(descr)' is not supported (expected little-endian float32, float64, int32 or int64)")
        }
        let fortranOrder = header.range(of: "'fortran_order': True") != nil
        guard let shapeStart = header.range(of: "'shape':"),
              let open = header[shapeStart.upperBound...].firstIndex(of: "("),
              let close = header[open...].firstIndex(of: ")") else {
            throw fail("header", "no 'shape' field")
        }
        let shapeText = header[header.index(after: open)..<close]
        let dimensions = shapeText.split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = dimensions.compactMap { Int($0) }
        guard shape.count == dimensions.count, shape.count == 2 else {
            throw fail("header 'shape'", "(\(shapeText)) is not 2-D (expected points × coordinates)")
        }
        let (rows, cols) = (shape[0], shape[1])
        let dataStart = headerStart + headerLength
        guard bytes.count - dataStart >= rows * cols * itemSize else {
            throw fail("", "truncated: \(rows)×\(cols) values of \(itemSize) bytes need \(rows * cols * itemSize) bytes of data, found \(bytes.count - dataStart)")
        }
        var values = [Double](repeating: 0, count: rows * cols)
        bytes.withUnsafeBytes { raw in
            let data = raw.baseAddress! + dataStart
            for k in 0..<(rows * cols) {
                let offset = k * itemSize
                let value: Double
                switch descr {
                case "<f4": value = Double(Float(bitPattern: UInt32(littleEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt32.self))))
                case "<f8": value = Double(bitPattern: UInt64(littleEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
                case "<i4": value = Double(Int32(littleEndian: data.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
                default: value = Double(Int64(littleEndian: data.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
                }
                // Fortran order stores column after column.
                let index = fortranOrder ? (k % rows) * cols + k / rows : k
                values[index] = value
            }
        }
        return try Matrix(rows: rows, cols: cols, storage: values)
    }

    /// The quoted value of `'key': '…'` in a NumPy header dictionary.
    private static func quotedValue(of key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)':") else { return nil }
        let rest = header[keyRange.upperBound...]
        guard let open = rest.firstIndex(where: { $0 == "'" || $0 == "\"" }) else { return nil }
        let quote = rest[open]
        guard let close = rest[rest.index(after: open)...].firstIndex(of: quote) else { return nil }
        return String(rest[rest.index(after: open)..<close])
    }
}
