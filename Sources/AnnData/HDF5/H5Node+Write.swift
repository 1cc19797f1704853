import CHDF5
import Foundation

/// Writing groups, datasets and attributes the way h5py lays them out, so anndata reads
/// them back: variable-length UTF-8 strings, enum-over-int8 bools, little-endian numbers.
extension H5Node {
    private func writeFailure(_ action: String) -> AnnDataError {
        let message = HDF5Library.takeErrorMessage()
        return AnnDataError(.writeFailed, file: file, element: displayPath,
                            detail: "could not \(action)\(message.isEmpty ? "" : " (HDF5: \(message))")")
    }

    /// A creation property list of `plistClass` that records no modification times: HDF5 stamps
    /// every object header with the time of writing by default, so the same data written twice
    /// gave different bytes, and a regenerated data file missed the whole content-addressed cache.
    private func untimedCreationList(_ plistClass: hid_t, for object: String) throws -> H5Handle {
        let listID = H5Pcreate(plistClass)
        if listID < 0 || H5Pset_obj_track_times(listID, false) < 0 {
            if listID >= 0 { H5Pclose(listID) }
            throw writeFailure("prepare the creation of '\(object)'")
        }
        return H5Handle(listID)
    }

    func createGroup(_ name: String) throws -> H5Node {
        let creation = try untimedCreationList(phdf5_plist_group_create(), for: name)
        let groupID = H5Gcreate2(id, name, phdf5_default(), creation.id, phdf5_default())
        if groupID < 0 { throw writeFailure("create group '\(name)'") }
        return H5Node(handle: H5Handle(groupID), path: childPath(name), file: file)
    }

    private func makeSpace(_ shape: [Int]) throws -> H5Handle {
        let spaceID: hid_t
        if shape.isEmpty {
            spaceID = H5Screate(H5S_SCALAR)
        } else {
            let dims = shape.map { hsize_t($0) }
            spaceID = H5Screate_simple(Int32(dims.count), dims, nil)
        }
        if spaceID < 0 { throw writeFailure("create a dataspace of shape \(shape)") }
        return H5Handle(spaceID)
    }

    private static func utf8StringType() -> H5Handle {
        let typeID = H5Tcopy(phdf5_c_s1())
        H5Tset_size(typeID, phdf5_variable())
        H5Tset_cset(typeID, H5T_CSET_UTF8)
        return H5Handle(typeID)
    }

    private static func boolType() -> H5Handle {
        let typeID = H5Tenum_create(phdf5_native_int8())
        var falseValue: Int8 = 0
        var trueValue: Int8 = 1
        H5Tenum_insert(typeID, "FALSE", &falseValue)
        H5Tenum_insert(typeID, "TRUE", &trueValue)
        return H5Handle(typeID)
    }

    /// Creates dataset `name` of the given shape and writes `bytes` (already in `memoryType`).
    private func writeDataset(
        _ name: String, shape: [Int], fileType: hid_t, memoryType: hid_t,
        bytes: UnsafeRawPointer?
    ) throws -> H5Node {
        let space = try makeSpace(shape)
        let creation = try untimedCreationList(phdf5_plist_dataset_create(), for: name)
        let datasetID = H5Dcreate2(id, name, fileType, space.id, phdf5_default(), creation.id, phdf5_default())
        if datasetID < 0 { throw writeFailure("create dataset '\(name)'") }
        let node = H5Node(handle: H5Handle(datasetID), path: childPath(name), file: file)
        if shape.reduce(1, *) > 0,
           H5Dwrite(datasetID, memoryType, phdf5_all(), phdf5_all(), phdf5_default(), bytes) < 0 {
            throw writeFailure("write dataset '\(name)'")
        }
        return node
    }

    /// A numeric dataset stored in the element type of `T` (Float → float32, Int64 → int64 …).
    @discardableResult
    func writeNumbers<T: H5NativeNumber>(_ name: String, _ values: [T], shape: [Int]) throws -> H5Node {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        return try values.withUnsafeBytes {
            try writeDataset(name, shape: shape, fileType: T.h5NativeType, memoryType: T.h5NativeType,
                             bytes: $0.baseAddress)
        }
    }

    @discardableResult
    func writeBools(_ name: String, _ values: [Bool], shape: [Int]) throws -> H5Node {
        let type = H5Node.boolType()
        let bytes = values.map { $0 ? Int8(1) : Int8(0) }
        return try bytes.withUnsafeBytes {
            try writeDataset(name, shape: shape, fileType: type.id, memoryType: type.id, bytes: $0.baseAddress)
        }
    }

    /// A variable-length UTF-8 string dataset; `shape: []` writes a scalar (one string).
    @discardableResult
    func writeStrings(_ name: String, _ values: [String], shape: [Int]) throws -> H5Node {
        let type = H5Node.utf8StringType()
        return try withCStringPointers(values) { pointers in
            try writeDataset(name, shape: shape, fileType: type.id, memoryType: type.id, bytes: pointers)
        }
    }

    private func writeAttribute(
        _ name: String, shape: [Int], type: hid_t, bytes: UnsafeRawPointer?
    ) throws {
        if try hasAttribute(name), H5Adelete(id, name) < 0 { throw writeFailure("replace attribute '\(name)'") }
        let space = try makeSpace(shape)
        let attributeID = H5Acreate2(id, name, type, space.id, phdf5_default(), phdf5_default())
        if attributeID < 0 { throw writeFailure("create attribute '\(name)'") }
        defer { H5Aclose(attributeID) }
        if shape.reduce(1, *) > 0, H5Awrite(attributeID, type, bytes) < 0 {
            throw writeFailure("write attribute '\(name)'")
        }
    }

    func setAttribute(_ name: String, string: String) throws {
        let type = H5Node.utf8StringType()
        try withCStringPointers([string]) { try writeAttribute(name, shape: [], type: type.id, bytes: $0) }
    }

    func setAttribute(_ name: String, strings: [String]) throws {
        let type = H5Node.utf8StringType()
        try withCStringPointers(strings) {
            try writeAttribute(name, shape: [strings.count], type: type.id, bytes: $0)
        }
    }

    func setAttribute(_ name: String, integers: [Int64]) throws {
        try integers.withUnsafeBytes {
            try writeAttribute(name, shape: [integers.count], type: Int64.h5NativeType, bytes: $0.baseAddress)
        }
    }

    func setAttribute(_ name: String, bool: Bool) throws {
        let type = H5Node.boolType()
        var byte: Int8 = bool ? 1 : 0
        try writeAttribute(name, shape: [], type: type.id, bytes: &byte)
    }

    /// anndata's `encoding-type` / `encoding-version` pair.
    func setEncoding(_ type: String, version: String) throws {
        try setAttribute("encoding-type", string: type)
        try setAttribute("encoding-version", string: version)
    }
}

/// Calls `body` with an array of NUL-terminated UTF-8 copies of `strings`, freed afterwards.
private func withCStringPointers<R>(
    _ strings: [String], _ body: (UnsafeRawPointer?) throws -> R
) rethrows -> R {
    let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { pointers.forEach { free($0) } }
    return try pointers.withUnsafeBytes { try body($0.baseAddress) }
}
