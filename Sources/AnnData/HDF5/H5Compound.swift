import CHDF5
import LinearAlgebra

/// One member (field) of an HDF5 compound dataset, as numpy's structured arrays store them:
/// anndata 0.6 wrote obs, var, obsm and varm this way.
struct H5CompoundMember {
    let name: String
    /// The member's file type.
    let type: H5Handle

    /// `H5T_ARRAY` members (a fixed-size vector per row, as obsm's `X_pca`): their dimensions.
    func arrayDimensions() -> [Int]? {
        guard H5Tget_class(type.id) == H5T_ARRAY else { return nil }
        let rank = H5Tget_array_ndims(type.id)
        guard rank > 0 else { return nil }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        guard H5Tget_array_dims2(type.id, &dims) >= 0 else { return nil }
        return dims.map { Int($0) }
    }
}

extension H5Node {
    /// Whether this node is a dataset of a compound (structured) type.
    func isCompoundDataset() throws -> Bool {
        guard isDataset else { return false }
        let typeID = H5Dget_type(id)
        if typeID < 0 { throw failure("read the dataset header") }
        defer { H5Tclose(typeID) }
        return H5Tget_class(typeID) == H5T_COMPOUND
    }

    /// The members of this compound dataset, in their stored order.
    func compoundMembers() throws -> [H5CompoundMember] {
        let typeID = H5Dget_type(id)
        if typeID < 0 { throw failure("read the dataset header") }
        defer { H5Tclose(typeID) }
        let count = H5Tget_nmembers(typeID)
        if count < 0 { throw failure("list the fields of the compound dataset") }
        var members: [H5CompoundMember] = []
        for index in 0..<UInt32(count) {
            guard let rawName = H5Tget_member_name(typeID, index) else {
                throw failure("read the name of field \(index)")
            }
            let name = String(cString: rawName)
            H5free_memory(rawName)
            let memberType = H5Tget_member_type(typeID, index)
            if memberType < 0 { throw failure("read the type of field '\(name)'") }
            members.append(H5CompoundMember(name: name, type: H5Handle(memberType)))
        }
        return members
    }

    /// A value source over one scalar member: reading it converts just that field of every row,
    /// so the string, number and bool decoders of `H5ValueSource` serve compound fields too.
    func memberSource(_ member: H5CompoundMember) throws -> H5ValueSource {
        let spaceID = H5Dget_space(id)
        if spaceID < 0 { throw failure("read the dataset header") }
        let datasetID = id
        let name = member.name
        return H5ValueSource(
            owner: self, what: "field '\(name)'", type: member.type, space: H5Handle(spaceID),
            read: { memoryType, buffer in
                H5Node.readField(named: name, of: datasetID, memoryType: memoryType, into: buffer)
            })
    }

    /// An `H5T_ARRAY` member read as a rows × (product of its dimensions) matrix.
    func readArrayMember<Scalar: BLASScalar>(
        _ member: H5CompoundMember, as _: Scalar.Type
    ) throws -> Matrix<Scalar> {
        guard let dims = member.arrayDimensions() else {
            throw layoutError("field '\(member.name)' is not an array field")
        }
        let base = H5Tget_super(member.type.id)
        if base < 0 { throw failure("read the element type of field '\(member.name)'") }
        let baseType = H5ElementType(typeID: base)
        H5Tclose(base)
        guard baseType.isNumeric, baseType != .bool else {
            throw layoutError("field '\(member.name)' holds \(baseType.numpyName), expected numbers")
        }
        let source = try datasetSource()
        let rows = try source.elementCount()
        let width = dims.reduce(1, *)
        var memoryDims = dims.map { hsize_t($0) }
        let memoryType = H5Tarray_create2(h5NativeType(of: Scalar.self), UInt32(dims.count), &memoryDims)
        if memoryType < 0 { throw failure("describe field '\(member.name)' in memory") }
        defer { H5Tclose(memoryType) }
        let datasetID = id
        let values: [Scalar] = try LargeArrays.make(count: rows * width) { buffer in
            guard rows * width > 0 else { return }
            if H5Node.readField(named: member.name, of: datasetID, memoryType: memoryType,
                                into: UnsafeMutableRawPointer(buffer.baseAddress!)) < 0 {
                throw failure("read field '\(member.name)'")
            }
        }
        return try Matrix(rows: rows, cols: width, storage: values)
    }

    /// Reads field `name` of every row of a compound dataset into `buffer`, converted to
    /// `memoryType`: HDF5 matches compound members by name, so a one-member memory type picks it.
    private static func readField(
        named name: String, of dataset: hid_t, memoryType: hid_t, into buffer: UnsafeMutableRawPointer
    ) -> herr_t {
        let wrapper = H5Tcreate(H5T_COMPOUND, H5Tget_size(memoryType))
        if wrapper < 0 { return -1 }
        defer { H5Tclose(wrapper) }
        if H5Tinsert(wrapper, name, 0, memoryType) < 0 { return -1 }
        return H5Dread(dataset, wrapper, phdf5_all(), phdf5_all(), phdf5_default(), buffer)
    }
}
