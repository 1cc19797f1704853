import CHDF5
import LinearAlgebra

/// Owns one HDF5 identifier and releases it when the last Swift reference goes.
final class H5Handle {
    let id: hid_t
    init(_ id: hid_t) { self.id = id }
    deinit { H5Idec_ref(id) }
}

/// A number type HDF5 can convert into in memory.
protocol H5NativeNumber: Numeric {
    static var h5NativeType: hid_t { get }
}

extension Float: H5NativeNumber { static var h5NativeType: hid_t { phdf5_native_float() } }
extension Double: H5NativeNumber { static var h5NativeType: hid_t { phdf5_native_double() } }
extension Int8: H5NativeNumber { static var h5NativeType: hid_t { phdf5_native_int8() } }
extension Int16: H5NativeNumber { static var h5NativeType: hid_t { phdf5_native_int16() } }
extension Int32: H5NativeNumber { static var h5NativeType: hid_t { phdf5_native_int32() } }
extension Int64: H5NativeNumber { static var h5NativeType: hid_t { phdf5_native_int64() } }
extension UInt8: H5NativeNumber { static var h5NativeType: hid_t { phdf5_native_uint8() } }

/// What a dataset or attribute holds, in numpy's vocabulary where one exists.
enum H5ElementType: Equatable {
    case float(bytes: Int)
    case integer(bytes: Int, signed: Bool)
    /// h5py stores numpy bools as an enum over int8 with members FALSE/TRUE.
    case bool
    case string
    case objectReference
    case other(String)

    /// numpy's dtype name (`float32`, `int64`, `bool`, …).
    var numpyName: String {
        switch self {
        case .float(let bytes): return "float\(bytes * 8)"
        case .integer(let bytes, let signed): return "\(signed ? "int" : "uint")\(bytes * 8)"
        case .bool: return "bool"
        case .string: return "string"
        case .objectReference: return "object reference"
        case .other(let name): return name
        }
    }

    var isNumeric: Bool {
        switch self {
        case .float, .integer, .bool: return true
        default: return false
        }
    }

    init(typeID: hid_t) {
        let size = H5Tget_size(typeID)
        switch H5Tget_class(typeID) {
        case H5T_FLOAT:
            self = .float(bytes: size)
        case H5T_INTEGER:
            self = .integer(bytes: size, signed: H5Tget_sign(typeID) != H5T_SGN_NONE)
        case H5T_ENUM:
            self = H5ElementType.isBoolEnum(typeID) ? .bool : .other("enum")
        case H5T_STRING:
            self = .string
        case H5T_REFERENCE:
            self = .objectReference
        case H5T_COMPOUND:
            self = .other("compound")
        case H5T_VLEN:
            self = .other("variable-length sequence")
        default:
            self = .other("HDF5 type class \(H5Tget_class(typeID).rawValue)")
        }
    }

    private static func isBoolEnum(_ typeID: hid_t) -> Bool {
        guard H5Tget_nmembers(typeID) == 2 else { return false }
        var names: [String] = []
        for index in 0..<UInt32(2) {
            guard let name = H5Tget_member_name(typeID, index) else { return false }
            names.append(String(cString: name).uppercased())
            H5free_memory(name)
        }
        return Set(names) == ["FALSE", "TRUE"]
    }
}

/// The HDF5 in-memory type of a BLAS scalar (Float or Double).
func h5NativeType<Scalar: BLASScalar>(of _: Scalar.Type) -> hid_t {
    MemoryLayout<Scalar>.size == MemoryLayout<Float>.size ? phdf5_native_float() : phdf5_native_double()
}
