import Foundation
import Reports
import Yams

/// A pipeline file's text and YAML tree, with one clear problem when it cannot be had: no such
/// file, a folder, no permission, bytes that are not UTF-8 (the offset and line of the first),
/// a YAML syntax error at its line, or aliases that expand past `nodeLimit` nodes (a "billion
/// laughs" file, which would otherwise take memory and time exponential in its size).
enum PipelineFile {
    /// More YAML nodes than any pipeline needs (a screen's `drugs` list of 2,256 conditions is
    /// 2,257), few enough to count in about a second.
    static let nodeLimit = 5_000_000

    /// The file's YAML tree (nil for an empty file).
    /// - Throws: `PipelineSpecError` with the one problem.
    static func compose(_ path: String) throws -> Node? {
        let text = try read(path)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw PipelineSpecError(file: path, issues: [SpecParser.syntaxIssue(error)])
        }
        if let root { try checkSize(root, file: path) }
        return root
    }

    /// The file's text.
    static func read(_ path: String) throws -> String {
        func fail(_ message: String) -> PipelineSpecError { PipelineSpecError(file: path, issues: [SpecIssue(message, at: nil)]) }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw fail("no such file") }
        guard !isFolder.boolValue else { throw fail("is a folder; expected a pipeline YAML file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw fail(FileManager.default.isReadableFile(atPath: path) ? "cannot be read" : "cannot be read (permission denied)")
        }
        guard let text = String(validatingUTF8Bytes: data) else {
            let offset = firstInvalidUTF8Offset(data)
            let line = data.prefix(offset).reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
            let byte = offset < data.count ? String(format: "0x%02X", data[data.startIndex + offset]) : "end of file"
            throw PipelineSpecError(file: path, issues: [SpecIssue(
                "not UTF-8 text: byte \(byte) at offset \(offset) (line \(line)) is not valid UTF-8; save the file as UTF-8",
                at: SourceLocation(line: line, column: 1 + data.prefix(offset).reversed().prefix { $0 != 0x0A }.count))])
        }
        return text
    }

    /// The offset of the first byte that does not begin or continue a valid UTF-8 sequence.
    static func firstInvalidUTF8Offset(_ data: Data) -> Int {
        let bytes = [UInt8](data)
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length: Int
            switch lead {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return index
            }
            guard index + length <= bytes.count else { return index }
            let sequence = bytes[index..<(index + length)]
            guard sequence.dropFirst().allSatisfy({ $0 & 0xC0 == 0x80 }) else { return index }
            // Overlong forms, surrogates and values past U+10FFFF, which Swift's validation refuses too.
            if String(validatingUTF8Bytes: Data(sequence)) == nil { return index }
            index += length
        }
        return bytes.count
    }

    /// Refuses a tree that expands past `nodeLimit` nodes (aliases are followed, so a file of a
    /// few lines can expand to billions), counting no further than the limit.
    static func checkSize(_ root: Node, file: String) throws {
        var count = 0
        var stack = [root]
        while let node = stack.popLast() {
            count += 1
            guard count <= nodeLimit else {
                throw PipelineSpecError(file: file, issues: [SpecIssue(
                    "the YAML expands to more than \(nodeLimit.grouped) nodes (aliases such as *name copy what their anchor holds); a pipeline file is far smaller — expand the aliases or list fewer entries",
                    at: nil)])
            }
            switch node {
            case .scalar, .alias: continue
            case .sequence(let sequence): stack.append(contentsOf: sequence)
            case .mapping(let mapping):
                for (key, value) in mapping {
                    stack.append(key)
                    stack.append(value)
                }
            }
        }
    }
}

extension String {
    /// The text of `data`, or nil when it is not valid UTF-8 (never with replacement characters).
    init?(validatingUTF8Bytes data: Data) {
        guard let text = String(data: data, encoding: .utf8) else { return nil }
        self = text
    }
}
