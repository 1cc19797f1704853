import Foundation

/// One line for a file-system error, naming the path and the reason in words (read-only, no
/// space, permission, exists and is a file), in place of Foundation's
/// `Error Domain=NSCocoaErrorDomain Code=642 "…" UserInfo={…}` dump.
public enum FileSystemMessage {
    /// `PATH: reason` for a Foundation or POSIX file error; nil for any other error.
    public static func line(for error: Error, path fallbackPath: String? = nil) -> String? {
        let error = error as NSError
        let path = (error.userInfo[NSFilePathErrorKey] as? String)
            ?? (error.userInfo[NSURLErrorKey] as? URL)?.path ?? fallbackPath
        guard let reason = reason(error) else { return nil }
        return path.map { "\($0): \(reason)" } ?? reason
    }

    /// The reason in words (`read-only file system`), or the error as it describes itself when
    /// it is not a file-system error.
    public static func reason(for error: Error) -> String { reason(error as NSError) ?? "\(error)" }

    /// The reason in words, from the Cocoa code or the underlying POSIX error.
    static func reason(_ error: NSError) -> String? {
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return posixReason(Int32(underlying.code))
        }
        if error.domain == NSPOSIXErrorDomain { return posixReason(Int32(error.code)) }
        guard error.domain == NSCocoaErrorDomain else { return nil }
        switch CocoaError.Code(rawValue: error.code) {
        case .fileWriteVolumeReadOnly: return "read-only file system"
        case .fileWriteNoPermission, .fileReadNoPermission: return "permission denied"
        case .fileWriteFileExists: return "exists (a file is in the way of a folder)"
        case .fileWriteOutOfSpace: return "no space left on the device"
        case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or folder"
        case .fileReadCorruptFile, .fileReadInapplicableStringEncoding: return "cannot be read as text"
        case .fileReadTooLarge: return "too large to read"
        case .fileLocking: return "locked by another process"
        default: return "file error \(error.code)"
        }
    }

    /// strerror's words for the errors a user can act on.
    public static func posixReason(_ code: Int32) -> String {
        switch code {
        case EROFS: return "read-only file system"
        case EACCES, EPERM: return "permission denied"
        case EEXIST: return "already exists"
        case ENOTDIR: return "a file is in the way of a folder"
        case EISDIR: return "is a folder"
        case ENOSPC, EDQUOT: return "no space left on the device"
        case ENOENT: return "no such file or folder"
        default: return String(cString: strerror(code))
        }
    }
}
