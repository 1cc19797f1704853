import CHDF5
import Foundation

/// Opening and creating HDF5 files; callers hold `HDF5Library.withLock`.
enum H5File {
    /// The root group of the existing HDF5 file at `path`, opened read-only.
    static func openRoot(_ path: String) throws -> H5Node {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw AnnDataError(.fileNotFound, file: path, detail: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw AnnDataError(.notHDF5, file: path, detail: "is a directory, expected an .h5ad (HDF5) file")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw AnnDataError(.fileNotFound, file: path, detail: "not readable (permission denied)")
        }
        let signature = H5Fis_hdf5(path)
        if signature == 0 {
            throw AnnDataError(.notHDF5, file: path, detail: "not an HDF5 file (no HDF5 signature), expected an .h5ad file")
        }
        if signature < 0 {
            let message = HDF5Library.takeErrorMessage()
            throw AnnDataError(.corrupt, file: path, detail: "unreadable HDF5 file (HDF5: \(message))")
        }
        let fileID = H5Fopen(path, phdf5_acc_rdonly(), phdf5_default())
        if fileID < 0 {
            let message = HDF5Library.takeErrorMessage()
            throw AnnDataError(.corrupt, file: path, detail: "corrupt or truncated HDF5 file (HDF5: \(message))")
        }
        // The file stays open while the root group (and anything opened from it) lives.
        defer { H5Fclose(fileID) }
        let rootID = H5Gopen2(fileID, "/", phdf5_default())
        if rootID < 0 {
            let message = HDF5Library.takeErrorMessage()
            throw AnnDataError(.corrupt, file: path, detail: "cannot open the root group (HDF5: \(message))")
        }
        return H5Node(handle: H5Handle(rootID), path: "", file: path)
    }

    /// Creates (truncating) an HDF5 file at `path` and returns its root group.
    /// `displayName` is the name used in messages (the final path when writing to a temp file).
    static func createRoot(_ path: String, displayName: String) throws -> H5Node {
        // The root group's header would carry the creation time (see H5Node.createGroup).
        let creation = H5Pcreate(phdf5_plist_file_create())
        if creation >= 0 { H5Pset_obj_track_times(creation, false) }
        let fileID = H5Fcreate(path, phdf5_acc_trunc(), creation >= 0 ? creation : phdf5_default(), phdf5_default())
        if creation >= 0 { H5Pclose(creation) }
        if fileID < 0 {
            let message = HDF5Library.takeErrorMessage()
            throw AnnDataError(.writeFailed, file: displayName, detail: "cannot create the file (HDF5: \(message))")
        }
        defer { H5Fclose(fileID) }
        let rootID = H5Gopen2(fileID, "/", phdf5_default())
        if rootID < 0 {
            let message = HDF5Library.takeErrorMessage()
            throw AnnDataError(.writeFailed, file: displayName, detail: "cannot open the root group (HDF5: \(message))")
        }
        return H5Node(handle: H5Handle(rootID), path: "", file: displayName)
    }
}
