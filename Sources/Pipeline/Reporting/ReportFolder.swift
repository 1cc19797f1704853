import AnnData
import Foundation

/// Writes a report folder whole: the files go into a temporary sibling folder, which then
/// replaces the old one by rename, so a reader (or a second run writing the same report) never
/// sees one run's table beside another's plots.
///
/// Files a person put in the folder (notes, say) are carried over: the writer lists what it
/// wrote in `.report-files`, and anything else already in the folder is copied into the new one.
/// The swap is two renames (old folder aside, new one in), portable to NFS, so for a moment
/// the folder is absent rather than mixed; when another writer's folder lands in between, its
/// folder is moved aside in turn and this one put in, up to a few times.
enum ReportFolder {
    static let listingName = ".report-files"

    /// Writes `files` (name → bytes) as `folder`, after `more(temporaryFolder)` has added its
    /// own files (predictions). Returns `folder`.
    @discardableResult
    static func write(_ files: [(String, Data)], to folder: URL, more: (URL) throws -> [String] = { _ in [] }) throws -> URL {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        if manager.fileExists(atPath: folder.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw FileWriteError(path: folder.path, reason: "a file is there; the report is a folder and perturbot will not replace a file")
        }
        let parent = folder.deletingLastPathComponent()
        let temporary = parent.appendingPathComponent(".\(folder.lastPathComponent).tmp-\(getpid())-\(UUID().uuidString)")
        do {
            try manager.createDirectory(at: parent, withIntermediateDirectories: true)
            try manager.createDirectory(at: temporary, withIntermediateDirectories: false)
        } catch {
            throw FileWriteError(path: folder.path, reason: FileSystemMessage.reason(for: error))
        }
        do {
            for (name, data) in files {
                do {
                    try data.write(to: temporary.appendingPathComponent(name))
                } catch {
                    throw FileWriteError(path: folder.appendingPathComponent(name).path,
                                         reason: FileSystemMessage.reason(for: error))
                }
            }
            let written = Set(files.map(\.0) + (try more(temporary)))
            let previous = Set(((try? String(contentsOf: folder.appendingPathComponent(listingName), encoding: .utf8)) ?? "")
                .split(separator: "\n").map(String.init))
            for name in (try? manager.contentsOfDirectory(atPath: folder.path)) ?? []
            where name != listingName && !written.contains(name) && !previous.contains(name) {
                try manager.copyItem(at: folder.appendingPathComponent(name), to: temporary.appendingPathComponent(name))
            }
            try Data(written.sorted().map { $0 + "\n" }.joined().utf8).write(to: temporary.appendingPathComponent(listingName))
            try swap(temporary, into: folder)
        } catch let error as FileWriteError {
            try? manager.removeItem(at: temporary)
            throw error
        } catch {
            try? manager.removeItem(at: temporary)
            throw FileWriteError(path: folder.path, reason: FileSystemMessage.reason(for: error))
        }
        return folder
    }

    private static func swap(_ temporary: URL, into folder: URL) throws {
        let manager = FileManager.default
        for _ in 0..<8 {
            let aside = folder.deletingLastPathComponent()
                .appendingPathComponent(".\(folder.lastPathComponent).old-\(getpid())-\(UUID().uuidString)")
            let movedAside = rename(folder.path, aside.path) == 0
            if rename(temporary.path, folder.path) == 0 {
                if movedAside { try? manager.removeItem(at: aside) }
                return
            }
            let failure = errno
            let raced = failure == ENOTEMPTY || failure == EEXIST
            if movedAside {
                // Raced: another writer's newer folder is in place, so the old one can go.
                if raced { try? manager.removeItem(at: aside) } else { _ = rename(aside.path, folder.path) }
            }
            guard raced else { throw FileWriteError(path: folder.path, reason: String(cString: strerror(failure))) }
        }
        throw FileWriteError(path: folder.path, reason: "other processes kept replacing the report folder")
    }
}
