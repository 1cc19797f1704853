import AnnData
import Foundation

/// The checks made before any task runs on the two places a run writes: the report folder and
/// the cache. Each problem is one line naming the path and the reason, so a run that cannot
/// write its report, or cannot store a task, says so at once instead of computing for an hour
/// and failing at the end (or failing every task with a file-system dump in the report).
public enum OutputPaths {
    /// The problem with writing the report as the folder `folder`; nil when it can be written.
    /// A folder perturbot writes may replace a folder, never a file: a file at `folder` is the
    /// user's and is refused, not replaced.
    public static func reportProblem(_ folder: URL) -> String? {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) {
            guard isFolder.boolValue else {
                return "report.out: \(folder.path) is a file; the report is written as a folder and perturbot will not replace a file (move it, or set report.out to another path)"
            }
            // The new folder replaces the old one by rename in the parent.
            return writeProblem(folder.deletingLastPathComponent()).map { "report.out: cannot replace \(folder.path): \($0)" }
        }
        return writeProblem(folder.deletingLastPathComponent()).map { "report.out: cannot create \(folder.path): \($0)" }
    }

    /// The problem with storing `tasksToRun` task(s) in the cache at `root`; nil when there is
    /// none (a read-only cache that holds every task is fine: nothing is written to it).
    public static func cacheProblem(_ root: URL, tasksToRun: Int) -> String? {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: root.path, isDirectory: &isFolder), !isFolder.boolValue {
            return "cache \(root.path) is a file, not a folder (give --cache a folder)"
        }
        guard tasksToRun > 0 else { return nil }
        guard let problem = writeProblem(isFolder.boolValue ? root : root.deletingLastPathComponent()) else { return nil }
        return "cache \(root.path): \(problem); \(tasksToRun) task(s) are not cached and could not be stored (give a writable --cache)"
    }

    /// Why files cannot be made in `folder` (or in the nearest existing folder above it, when
    /// it is to be created); nil when they can.
    private static func writeProblem(_ folder: URL) -> String? {
        var candidate = folder.standardizedFileURL
        var isFolder: ObjCBool = false
        while !FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isFolder) {
            let parent = candidate.deletingLastPathComponent()
            guard parent.path != candidate.path else { return nil }
            candidate = parent
        }
        guard isFolder.boolValue else { return "\(candidate.path) is a file, not a folder" }
        guard access(candidate.path, W_OK) == 0 else {
            return "\(candidate.path) is not writable (\(FileSystemMessage.posixReason(errno)))"
        }
        return nil
    }
}
