import ArgumentParser
import Foundation
import Methods

/// `perturbot methods`: the method catalog — every map estimator with its parameters, their
/// types, defaults and help, derived from the configurations themselves.
struct MethodsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "methods",
        abstract: "List the map methods and their parameters (docs/methods.md is this command's --markdown).")

    @Flag(help: "Print the catalog as JSON.")
    var json = false

    @Flag(help: "Print the catalog as Markdown (docs/methods.md).")
    var markdown = false

    @Argument(help: "Only these methods.")
    var names: [String] = []

    func run() throws {
        try reportingErrors {
            if json && markdown { throw CommandError("--json and --markdown exclude each other") }
            if markdown && !names.isEmpty {
                throw CommandError("--markdown prints the whole catalogue (docs/methods.md); leave out the method names")
            }
            for name in names where MethodCatalog.configuration(named: name) == nil {
                throw CommandError("unknown method '\(name)' (expected one of \(MethodCatalog.names.joined(separator: ", ")))")
            }
            let chosen = MethodCatalog.descriptions.filter { names.isEmpty || names.contains($0.name) }
            if markdown {
                print(MethodCatalog.markdown(), terminator: "")
            } else if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(chosen), as: UTF8.self))
            } else {
                for method in chosen {
                    print("\(method.name)\(method.stochastic ? " (stochastic)" : ""): \(method.summary)")
                    for parameter in method.parameters {
                        print("  \(parameter.name) (\(parameter.type); default \(parameter.default)): \(parameter.help)")
                    }
                }
            }
        }
    }
}
