import CHDF5
import LinearAlgebra

/// The values of one dataset or attribute: its type, its dataspace and how to read it whole.
/// Strings, numbers and bools are read through the same source so datasets and attributes
/// share one decoding path.
struct H5ValueSource {
    let owner: H5Node
    /// "dataset" or "attribute 'name'", for messages.
    let what: String
    let type: H5Handle
    let space: H5Handle
    let read: (_ memoryType: hid_t, _ buffer: UnsafeMutableRawPointer) -> herr_t

    var elementType: H5ElementType { H5ElementType(typeID: type.id) }

    func shape() throws -> [Int] {
        let rank = H5Sget_simple_extent_ndims(space.id)
        if rank < 0 { throw owner.failure("read the shape of the \(what)") }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        if rank > 0, H5Sget_simple_extent_dims(space.id, &dims, nil) < 0 {
            throw owner.failure("read the shape of the \(what)")
        }
        return dims.map { Int($0) }
    }

    func elementCount() throws -> Int {
        let count = H5Sget_simple_extent_npoints(space.id)
        if count < 0 { throw owner.failure("count the elements of the \(what)") }
        return Int(count)
    }

    /// All elements converted by HDF5 to `T`.
    func readNumbers<T: H5NativeNumber>(as _: T.Type) throws -> [T] {
        try readNumbers(as: T.self, memoryType: T.h5NativeType)
    }

    /// All elements converted by HDF5 to the in-memory type `memoryType`, which must match `T`.
    func readNumbers<T: Numeric>(as _: T.Type, memoryType: hid_t) throws -> [T] {
        guard elementType.isNumeric else {
            throw owner.layoutError("\(what) should be numeric, found \(elementType.numpyName)")
        }
        if elementType == .bool {
            return try readBools().map { $0 ? 1 : 0 }
        }
        let count = try elementCount()
        if count == 0 { return [] }
        return try LargeArrays.make(count: count) { buffer in
            // On failure the half-written buffer is discarded with the array.
            if read(memoryType, UnsafeMutableRawPointer(buffer.baseAddress!)) < 0 {
                throw owner.failure("read the \(what)")
            }
        }
    }

    /// All elements as bools: h5py's enum bools, or integers (non-zero is true).
    func readBools() throws -> [Bool] {
        let count = try elementCount()
        switch elementType {
        case .bool:
            let memoryType = H5Tget_native_type(type.id, H5T_DIR_ASCEND)
            if memoryType < 0 { throw owner.failure("read the \(what)") }
            defer { H5Tclose(memoryType) }
            let width = H5Tget_size(memoryType)
            var bytes = [UInt8](repeating: 0, count: count * width)
            if count > 0 {
                let status = bytes.withUnsafeMutableBytes { read(memoryType, $0.baseAddress!) }
                if status < 0 { throw owner.failure("read the \(what)") }
            }
            return (0..<count).map { index in
                bytes[(index * width)..<((index + 1) * width)].contains { $0 != 0 }
            }
        case .integer:
            return try readNumbers(as: Int64.self).map { $0 != 0 }
        default:
            throw owner.layoutError("\(what) should hold booleans, found \(elementType.numpyName)")
        }
    }

    /// All elements as strings, from variable- or fixed-length HDF5 strings.
    func readStrings() throws -> [String] {
        guard elementType == .string else {
            throw owner.layoutError("\(what) should hold strings, found \(elementType.numpyName)")
        }
        let count = try elementCount()
        if count == 0 { return [] }
        let memoryType = H5Tcopy(phdf5_c_s1())
        if memoryType < 0 { throw owner.failure("read the \(what)") }
        defer { H5Tclose(memoryType) }
        H5Tset_cset(memoryType, H5Tget_cset(type.id))
        if H5Tis_variable_str(type.id) > 0 {
            H5Tset_size(memoryType, phdf5_variable())
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            let status = pointers.withUnsafeMutableBytes { read(memoryType, $0.baseAddress!) }
            if status < 0 { throw owner.failure("read the \(what)") }
            let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
            _ = pointers.withUnsafeMutableBytes {
                H5Dvlen_reclaim(memoryType, space.id, phdf5_default(), $0.baseAddress!)
            }
            return strings
        }
        let width = H5Tget_size(type.id)
        H5Tset_size(memoryType, width)
        H5Tset_strpad(memoryType, H5T_STR_NULLPAD)
        var bytes = [UInt8](repeating: 0, count: count * width)
        let status = bytes.withUnsafeMutableBytes { read(memoryType, $0.baseAddress!) }
        if status < 0 { throw owner.failure("read the \(what)") }
        let spacePadded = H5Tget_strpad(type.id) == H5T_STR_SPACEPAD
        return (0..<count).map { index in
            var field = bytes[(index * width)..<((index + 1) * width)]
            if let end = field.firstIndex(of: 0) { field = field[..<end] }
            var text = String(decoding: field, as: UTF8.self)
            if spacePadded { while text.last == " " { text.removeLast() } }
            return text
        }
    }
}

extension H5ValueSource {
    /// Strings, or numbers written as strings (a numeric index or numeric categories).
    func labels() throws -> [String] {
        switch elementType {
        case .string:
            return try readStrings()
        case .integer:
            return try readNumbers(as: Int64.self).map { String($0) }
        case .float:
            return try readNumbers(as: Double.self).map { String($0) }
        case .bool:
            return try readBools().map { $0 ? "True" : "False" }
        default:
            throw owner.layoutError("\(what) should hold labels, found \(elementType.numpyName)")
        }
    }

    /// These values as a dataframe column (bools, integers, floats or strings); nil, with an
    /// entry in `skipped` naming `displayPath`, for a type perturbot does not load.
    func column(displayPath: String, skipped: inout [String]) throws -> Column? {
        switch elementType {
        case .bool: return .bool(try readBools())
        case .integer(let bytes, let signed) where signed || bytes < 8:
            return .integer(try readNumbers(as: Int64.self))
        case .integer, .float: return .double(try readNumbers(as: Double.self))
        case .string: return .string(try readStrings())
        default:
            skipped.append("\(displayPath): \(elementType.numpyName) column is not loaded")
            return nil
        }
    }
}

extension H5Node {
    /// The value source of this dataset.
    func datasetSource() throws -> H5ValueSource {
        guard isDataset else { throw layoutError("expected a dataset, found a group") }
        let typeID = H5Dget_type(id)
        let spaceID = H5Dget_space(id)
        if typeID < 0 || spaceID < 0 { throw failure("read the dataset header") }
        let datasetID = id
        return H5ValueSource(
            owner: self, what: "dataset", type: H5Handle(typeID), space: H5Handle(spaceID),
            read: { memoryType, buffer in
                H5Dread(datasetID, memoryType, phdf5_all(), phdf5_all(), phdf5_default(), buffer)
            })
    }

    /// Reads rows `start ..< start + count` (along the first dimension) of this dataset,
    /// converted to `T`, into `buffer`, which holds `count × (elements per row)` values.
    func readRows<T: H5NativeNumber>(
        start: Int, count: Int, shape: [Int], into buffer: UnsafeMutableBufferPointer<T>
    ) throws {
        try readRows(start: start, count: count, shape: shape, memoryType: T.h5NativeType,
                     into: UnsafeMutableRawPointer(buffer.baseAddress))
    }

    /// `readRows` for a buffer whose element type the caller matched to `memoryType`.
    func readRows(
        start: Int, count: Int, shape: [Int], memoryType: hid_t, into buffer: UnsafeMutableRawPointer?
    ) throws {
        guard count > 0 else { return }
        let fileSpace = H5Dget_space(id)
        if fileSpace < 0 { throw failure("read the dataset header") }
        defer { H5Sclose(fileSpace) }
        var offset = [hsize_t](repeating: 0, count: shape.count)
        var extent = shape.map { hsize_t($0) }
        offset[0] = hsize_t(start)
        extent[0] = hsize_t(count)
        if H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, offset, nil, extent, nil) < 0 {
            throw failure("select rows \(start)..<\(start + count)")
        }
        let memorySpace = H5Screate_simple(Int32(extent.count), extent, nil)
        if memorySpace < 0 { throw failure("allocate a row block") }
        defer { H5Sclose(memorySpace) }
        if H5Dread(id, memoryType, memorySpace, fileSpace, phdf5_default(), buffer) < 0 {
            throw failure("read rows \(start)..<\(start + count)")
        }
    }
}
