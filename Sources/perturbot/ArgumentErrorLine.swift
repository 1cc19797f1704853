import ArgumentParser
import Foundation

/// swift-argument-parser's errors (unknown flag, missing argument, a value not among the
/// choices, a value refused by a command's validation) as one line in perturbot's own words,
/// with the choices on that line, and one hint line naming the command's `--help`:
///
///     perturbot: error: --map: 'foo' is not one of identity, mean_shift, eot, …
///     see 'perturbot ot --help'
enum ArgumentErrorLine {
    /// The error line's message (after `perturbot: error: `).
    static func message(_ text: String) -> String {
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = lines.first else { return text }
        if let invalid = match(#"^The value '(.*)' is invalid for '(-{1,2}[A-Za-z0-9-]+|<[^>]+>)[^']*'(.*)$"#, first) {
            let (value, option, rest) = (invalid[0], invalid[1], invalid[2])
            // The choices: listed one per line after "one of the following:", or inline as 'a', 'b' or 'c'.
            var choices = lines.dropFirst().filter { $0.hasPrefix("- ") }.map { String($0.dropFirst(2)) }
            if choices.isEmpty, let inline = rest.range(of: "one of ") {
                choices = matches(#"'([^']*)'"#, String(rest[inline.upperBound...]))
            }
            if !choices.isEmpty { return "\(option): '\(value)' is not one of \(choices.joined(separator: ", "))" }
            let reason = rest.drop { $0 == ":" || $0 == " " || $0 == "." }
            return "\(option): '\(value)' is not a valid value" + (reason.isEmpty ? "" : ": \(reason)")
        }
        if let unknown = match(#"^Unknown option '([^']*)'\.?(?: Did you mean '([^']*)'\?)?$"#, first) {
            return "unknown option '\(unknown[0])'" + (unknown[1].isEmpty ? "" : " (did you mean '\(unknown[1])'?)")
        }
        if let missing = match(#"^Missing expected argument '([^']*)'"#, first) {
            return missing[0].hasPrefix("-") ? "missing \(missing[0])" : "missing the \(missing[0]) argument"
        }
        if let unexpected = match(#"^Unexpected argument '([^']*)'"#, first) {
            return "unexpected argument '\(unexpected[0])'"
        }
        // A command's own validation: "--jobs: must …" (and "--x must …" said the same way).
        if let flag = match(#"^(--[A-Za-z0-9-]+) (must|needs|cannot|is) (.*)$"#, first) {
            return "\(flag[0]): \(flag[1]) \(flag[2])"
        }
        return lines.joined(separator: " ")
    }

    /// The hint line: the `--help` of the (sub)command the arguments name.
    static func hint(arguments: [String], root: any ParsableCommand.Type) -> String {
        var path = [root.configuration.commandName ?? "perturbot"]
        var command: any ParsableCommand.Type = root
        for argument in arguments {
            guard let next = command.configuration.subcommands.first(where: { $0._commandName == argument }) else { break }
            path.append(argument)
            command = next
        }
        return "see '\(path.joined(separator: " ")) --help'"
    }

    private static func match(_ pattern: String, _ text: String) -> [String]? {
        guard let expression = try? NSRegularExpression(pattern: pattern),
              let found = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { return nil }
        return (1..<found.numberOfRanges).map { index in
            Range(found.range(at: index), in: text).map { String(text[$0]) } ?? ""
        }
    }

    private static func matches(_ pattern: String, _ text: String) -> [String] {
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return [] }
        return expression.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { found in
            Range(found.range(at: 1), in: text).map { String(text[$0]) }
        }
    }
}
