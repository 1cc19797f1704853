import CHDF5
import Foundation

/// An open HDF5 group or dataset, remembered with the file it came from and its path in it so
/// every failure can name both.
struct H5Node {
    let handle: H5Handle
    /// Path inside the file without the leading slash (`""` for the root group).
    let path: String
    /// The file path as the caller gave it, for messages.
    let file: String

    var id: hid_t { handle.id }
    var isGroup: Bool { H5Iget_type(id) == H5I_GROUP }
    var isDataset: Bool { H5Iget_type(id) == H5I_DATASET }
    var displayPath: String { path.isEmpty ? "/" : path }

    /// An error for a failed HDF5 call on this node, with HDF5's own explanation folded in.
    func failure(_ action: String, _ kind: AnnDataError.Kind = .corrupt) -> AnnDataError {
        let message = HDF5Library.takeErrorMessage()
        let reason = message.isEmpty ? "" : " (HDF5: \(message))"
        return AnnDataError(kind, file: file, element: displayPath, detail: "could not \(action)\(reason)")
    }

    /// An error about the layout of this node (wrong kind of object, shape or type).
    func layoutError(_ detail: String) -> AnnDataError {
        AnnDataError(.invalidLayout, file: file, element: displayPath, detail: detail)
    }

    func childPath(_ name: String) -> String { path.isEmpty ? name : "\(path)/\(name)" }

    /// Whether a link `name` exists directly in this group.
    func hasChild(_ name: String) throws -> Bool {
        let status = H5Lexists(id, name, phdf5_default())
        if status < 0 { throw failure("look up '\(name)'") }
        return status > 0
    }

    /// The child `name`, or nil when this group has no such link.
    func child(_ name: String) throws -> H5Node? {
        guard try hasChild(name) else { return nil }
        let childID = H5Oopen(id, name, phdf5_default())
        if childID < 0 {
            throw H5Node(handle: handle, path: childPath(name), file: file).failure("open")
        }
        return H5Node(handle: H5Handle(childID), path: childPath(name), file: file)
    }

    /// The names of this group's links, in HDF5's name order.
    func childNames() throws -> [String] {
        var info = H5G_info_t()
        if H5Gget_info(id, &info) < 0 { throw failure("list the group") }
        var names: [String] = []
        for index in 0..<info.nlinks {
            let length = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, phdf5_default())
            if length < 0 { throw failure("read link name \(index)") }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            if H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, phdf5_default()) < 0 {
                throw failure("read link name \(index)")
            }
            names.append(String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    // MARK: Attributes

    func hasAttribute(_ name: String) throws -> Bool {
        let status = H5Aexists(id, name)
        if status < 0 { throw failure("look up attribute '\(name)'") }
        return status > 0
    }

    /// Opens attribute `name`, or nil when absent.
    private func attribute(_ name: String) throws -> H5Handle? {
        guard try hasAttribute(name) else { return nil }
        let attributeID = H5Aopen(id, name, phdf5_default())
        if attributeID < 0 { throw failure("open attribute '\(name)'") }
        return H5Handle(attributeID)
    }

    private func attributeSource(_ attribute: H5Handle, _ name: String) throws -> H5ValueSource {
        let typeID = H5Aget_type(attribute.id)
        let spaceID = H5Aget_space(attribute.id)
        if typeID < 0 || spaceID < 0 { throw failure("read attribute '\(name)'") }
        return H5ValueSource(
            owner: self, what: "attribute '\(name)'", type: H5Handle(typeID), space: H5Handle(spaceID),
            read: { memoryType, buffer in H5Aread(attribute.id, memoryType, buffer) })
    }

    /// A string attribute (scalar, or the single element of a 1-element array), or nil if absent.
    func stringAttribute(_ name: String) throws -> String? {
        guard let attribute = try attribute(name) else { return nil }
        let source = try attributeSource(attribute, name)
        guard source.elementType == .string else { return nil }
        return try source.readStrings().first
    }

    /// A string-array attribute (`column-order`); an empty numeric array reads as `[]`.
    func stringArrayAttribute(_ name: String) throws -> [String]? {
        guard let attribute = try attribute(name) else { return nil }
        let source = try attributeSource(attribute, name)
        if source.elementType != .string {
            // anndata writes an empty column list as an empty float64 array.
            if try source.elementCount() == 0 { return [] }
            throw layoutError("attribute '\(name)' should hold strings, found \(source.elementType.numpyName)")
        }
        return try source.readStrings()
    }

    /// An integer or integer-array attribute (`shape`, `h5sparse_shape`), or nil if absent.
    func integerArrayAttribute(_ name: String) throws -> [Int]? {
        guard let attribute = try attribute(name) else { return nil }
        let source = try attributeSource(attribute, name)
        guard case .integer = source.elementType else {
            throw layoutError("attribute '\(name)' should hold integers, found \(source.elementType.numpyName)")
        }
        return try source.readNumbers(as: Int64.self).map { Int($0) }
    }

    /// A boolean attribute (h5py enum or integer), or nil if absent.
    func boolAttribute(_ name: String) throws -> Bool? {
        guard let attribute = try attribute(name) else { return nil }
        return try attributeSource(attribute, name).readBools().first
    }

    /// The object an object-reference attribute points to (anndata 0.7's `categories`).
    func referencedNode(attribute name: String) throws -> H5Node? {
        guard let attribute = try attribute(name) else { return nil }
        let source = try attributeSource(attribute, name)
        guard source.elementType == .objectReference else { return nil }
        var reference = hobj_ref_t()
        if H5Aread(attribute.id, phdf5_std_ref_obj(), &reference) < 0 {
            throw failure("read reference attribute '\(name)'")
        }
        // H5R_OBJECT (1.10) and H5R_OBJECT1 (1.12+) are both 0.
        let targetID = H5Rdereference2(id, phdf5_default(), H5R_type_t(rawValue: 0), &reference)
        if targetID < 0 { throw failure("follow reference attribute '\(name)'") }
        let target = H5Handle(targetID)
        let length = H5Iget_name(targetID, nil, 0)
        var buffer = [CChar](repeating: 0, count: max(0, Int(length)) + 1)
        _ = H5Iget_name(targetID, &buffer, buffer.count)
        var targetPath = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if targetPath.hasPrefix("/") { targetPath.removeFirst() }
        return H5Node(handle: target, path: targetPath, file: file)
    }

    /// The encoding declared by anndata (`encoding-type`), if any.
    func encodingType() throws -> String? {
        try stringAttribute("encoding-type")
    }
}
