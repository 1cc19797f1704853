import AnnData
import Foundation
import LinearAlgebra
import TestSupport
import XCTest

/// Bad input of every kind — pipeline files, .h5ad files, point clouds, flags — against the
/// built binary, one table row a case: the exit status (1 for bad input, 64 for a bad flag as
/// swift-argument-parser and sysexits say), how many lines reach stderr (one per problem; a bad
/// flag adds one hint line), that stdout is empty, and the fragments naming the file, field or
/// line and what was expected.
final class BadInputTests: XCTestCase {
    struct Case {
        let name: String
        let arguments: [String]
        var status: Int32 = 1
        var lines = 1
        let fragments: [String]
    }

    /// A flag error: status 64, the error line and `see 'perturbot … --help'`.
    static func flagCase(_ name: String, _ arguments: [String], _ fragments: [String], help: String) -> Case {
        Case(name: name, arguments: arguments, status: 64, lines: 2, fragments: fragments + ["\nsee 'perturbot \(help.isEmpty ? "" : help + " ")--help'"])
    }

    private static let folder = try! TestPaths.scratchDirectory()
    private static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// A valid pipeline's text with one section replaced.
    private static func pipeline(_ name: String, data: String = "{ path: demo.h5ad, condition_key: drug, control: control }",
                                 drugs: String = "[cisplatin]", pca: String = "{ components: [4] }",
                                 split: String = "{ test_fraction: 0.25, seeds: [0] }",
                                 methods: String = "{ id: { solver: identity } }", extra: String = "") throws -> String {
        try write(name, """
            name: bad
            data: \(data)
            drugs: \(drugs)
            pca: \(pca)
            split: \(split)
            methods: \(methods)
            \(extra)
            """)
    }

    @discardableResult
    private static func write(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    /// The data and files the cases read, made once.
    private static let prepared: Void = {
        do {
            let generated = try CLI.run(["generate", "4i-like", "--out", path("demo.h5ad"), "--control-cells", "120",
                                         "--cells-per-drug", "60", "--seed", "1"])
            precondition(generated.status == 0, generated.stderr)
            var data = try AnnDataReader.read(path("demo.h5ad"), as: Float.self)
            let dense = try XCTUnwrap(data.X).densified()
            data.X = .dense(Matrix(rows: dense.rows, cols: dense.cols) { i, j in dense[i, j] * 1e30 })
            try AnnDataWriter.write(data, to: path("huge.h5ad"))
            data.X = .dense(Matrix(rows: dense.rows, cols: dense.cols) { i, j in i == 3 && j == 2 ? .nan : dense[i, j] })
            try AnnDataWriter.write(data, to: path("nan.h5ad"))
            try write("notes.txt", "not an h5ad file\n")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path("demo.h5ad")))
            try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: path("truncated.h5ad")))
            try FileManager.default.createDirectory(atPath: path("folder.yaml"), withIntermediateDirectories: true)
            try write("empty.yaml", "")
            try Data("name: bad\ndata: { path: demo.h5ad, control: \"contr".utf8 + [0xFF] + "ol\" }\n".utf8)
                .write(to: URL(fileURLWithPath: path("latin1.yaml")))
            try write("syntax.yaml", "name: bad\ndata: { path: demo.h5ad\ndrugs: [a\n")
            _ = try pipeline("unknown-key.yaml", extra: "evalute: { metrics: [mean_l2] }")
            try write("missing-methods.yaml", "name: bad\ndata: { path: demo.h5ad, condition_key: drug, control: control }\ndrugs: [cisplatin]\npca: none\nsplit: { test_fraction: 0.25, seeds: [0] }\n")
            _ = try pipeline("repeated-drug.yaml", drugs: "[cisplatin, cisplatin, cisplatin, cisplatin, cisplatin]")
            _ = try pipeline("drugs-number.yaml", drugs: "7")
            _ = try pipeline("pca-zero.yaml", pca: "{ components: [0] }")
            _ = try pipeline("seeds-repeated.yaml", split: "{ test_fraction: 0.25, seeds: [1, 1, 1] }")
            _ = try pipeline("fraction.yaml", split: "{ test_fraction: 1.5, seeds: [0] }")
            _ = try pipeline("solver.yaml", methods: "{ m: { solver: magic } }")
            _ = try pipeline("parameter.yaml", methods: "{ m: { solver: eot, epsilonn: 1 } }")
            _ = try pipeline("epsilon.yaml", methods: "{ m: { solver: eot, epsilon: -1 } }")
            _ = try pipeline("data-missing.yaml", data: "{ path: nowhere.h5ad, condition_key: drug, control: control }")
            _ = try pipeline("condition-key.yaml", data: "{ path: demo.h5ad, condition_key: treatment, control: control }")
            _ = try pipeline("control.yaml", data: "{ path: demo.h5ad, condition_key: drug, control: DMSO }")
            _ = try pipeline("drug-absent.yaml", drugs: "[cisplatin, aspirin]")
            _ = try pipeline("report-file.yaml", extra: "report: { out: notes.txt }")
            _ = try pipeline("duplicate-key.yaml", extra: "report: { out: r1, out: r2 }")
            _ = try pipeline("transform.yaml", data: "{ path: demo.h5ad, condition_key: drug, control: control, transform: sqrt }")
            _ = try pipeline("metric.yaml", extra: "evaluate: { metrics: [mean_l3] }")
            _ = try pipeline("obsm.yaml", data: "{ path: demo.h5ad, condition_key: drug, control: control, features: X_scvi }")
            _ = try pipeline("experiment.yaml", extra: "experiment: inverse_gw")
            try write("iot-solver.yaml", """
                name: t
                experiment: inverse_ot
                graph: { kind: circular, nodes: 4 }
                pairs: [100]
                epsilon: [1]
                seeds: [0]
                estimator: { penalty: nuclear, solver: joint }
                """)
            _ = try pipeline("huge.yaml", data: "{ path: huge.h5ad, condition_key: drug, control: control }")
            _ = try pipeline("nan.yaml", data: "{ path: nan.h5ad, condition_key: drug, control: control }")
            _ = try pipeline("many-bad.yaml", drugs: "[" + Array(repeating: "{ a: 1 }", count: 100_000).joined(separator: ", ") + "]")
            var laughs = "lol0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
            for level in 1...9 { laughs += "lol\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
            try write("laughs.yaml", laughs)
            _ = try pipeline("good.yaml")
            try write("ragged.csv", "1,2,3\n4,5\n")
            try write("text.csv", "1,2\n3,abc\n")
            try write("empty.csv", "")
            try write("nan.csv", "1,2\nnan,4\n")
            try write("two.csv", "1,2\n3,4\n5,6\n")
            try write("three.csv", "1,2,3\n4,5,6\n")
            try Data([0x93] + Array("NUMPY".utf8) + [1, 0, 10, 0] + Array("{'descr'".utf8)).write(to: URL(fileURLWithPath: path("broken.npy")))
        } catch {
            fatalError("could not prepare the bad inputs: \(error)")
        }
    }()

    static var cases: [Case] {
        let good = path("good.yaml")
        return [
            // Pipeline files (validate).
            Case(name: "no such pipeline file", arguments: ["validate", path("nope.yaml")], fragments: ["nope.yaml: no such file"]),
            Case(name: "a folder", arguments: ["validate", path("folder.yaml")], fragments: ["folder.yaml: is a folder"]),
            Case(name: "not UTF-8", arguments: ["validate", path("latin1.yaml")], fragments: ["latin1.yaml:2:41:", "not UTF-8", "0xFF", "offset 50", "(line 2)"]),
            Case(name: "empty file", arguments: ["validate", path("empty.yaml")], fragments: ["empty.yaml: the file is empty"]),
            Case(name: "YAML syntax", arguments: ["validate", path("syntax.yaml")], fragments: ["syntax.yaml:", "YAML syntax error"]),
            Case(name: "unknown key", arguments: ["validate", path("unknown-key.yaml")], fragments: ["unknown-key.yaml:7:1:", "evalute"]),
            Case(name: "missing section", arguments: ["validate", path("missing-methods.yaml")], fragments: ["missing-methods.yaml:1:1:", "methods"]),
            Case(name: "a drug repeated", arguments: ["validate", path("repeated-drug.yaml")], fragments: ["repeated-drug.yaml:3:", "drug 'cisplatin' is listed 5 times"]),
            Case(name: "drugs not a list", arguments: ["validate", path("drugs-number.yaml")], fragments: ["drugs-number.yaml:3:8:", "drugs must be 'all' or a non-empty list"]),
            Case(name: "zero components", arguments: ["validate", path("pca-zero.yaml")], fragments: ["pca-zero.yaml:4:", "pca.components", "≥ 1", "'0'"]),
            Case(name: "a seed repeated", arguments: ["validate", path("seeds-repeated.yaml")], fragments: ["seeds-repeated.yaml:5:", "split.seeds lists 1 3 times"]),
            Case(name: "test fraction", arguments: ["validate", path("fraction.yaml")], fragments: ["fraction.yaml:5:", "test_fraction", "1.5"]),
            Case(name: "unknown solver", arguments: ["validate", path("solver.yaml")], fragments: ["solver.yaml:6:", "magic", "eot"]),
            Case(name: "unknown parameter", arguments: ["validate", path("parameter.yaml")], fragments: ["parameter.yaml:6:", "epsilonn"]),
            Case(name: "negative ε", arguments: ["validate", path("epsilon.yaml")], fragments: ["epsilon.yaml:6:", "epsilon", "-1"]),
            Case(name: "no data file", arguments: ["validate", path("data-missing.yaml")], fragments: ["data-missing.yaml:2:", "nowhere.h5ad"]),
            Case(name: "condition column", arguments: ["validate", path("condition-key.yaml")], fragments: ["condition-key.yaml:2:", "'treatment'", "drug"]),
            Case(name: "control value", arguments: ["validate", path("control.yaml")], fragments: ["control.yaml:2:", "'DMSO'", "control"]),
            Case(name: "a drug not in the data", arguments: ["validate", path("drug-absent.yaml")], fragments: ["drug-absent.yaml:3:", "aspirin"]),
            Case(name: "report.out is a file", arguments: ["validate", path("report-file.yaml")], fragments: ["report.out:", "notes.txt is a file", "will not replace a file"]),
            Case(name: "a key twice", arguments: ["validate", path("duplicate-key.yaml")], fragments: ["duplicate-key.yaml:7:", "duplicate key 'out'"]),
            Case(name: "transform", arguments: ["validate", path("transform.yaml")], fragments: ["transform.yaml:2:", "sqrt", "log1p"]),
            Case(name: "unknown metric", arguments: ["validate", path("metric.yaml")], fragments: ["metric.yaml:7:", "mean_l3"]),
            Case(name: "missing obsm", arguments: ["validate", path("obsm.yaml")], fragments: ["obsm.yaml:2:", "X_scvi"]),
            Case(name: "experiment kind", arguments: ["validate", path("experiment.yaml")], fragments: ["experiment.yaml:7:", "inverse_gw", "inverse_ot"]),
            Case(name: "iot experiment: joint solver with the nuclear norm", arguments: ["validate", path("iot-solver.yaml")],
                 fragments: ["iot-solver.yaml:7:", "estimator.solver joint takes the l1 penalty or none"]),
            Case(name: "values that overflow", arguments: ["validate", path("huge.yaml")], fragments: ["huge.yaml:2:", "overflow float32", "rescale"]),
            Case(name: "NaN in X", arguments: ["validate", path("nan.yaml")], fragments: ["nan.yaml:2:", "1 NaN or infinite value"]),
            Case(name: "100,000 bad entries", arguments: ["validate", path("many-bad.yaml")], lines: 21,
                 fragments: ["many-bad.yaml:3:", "drugs entry", "… and 99,980 more problems"]),
            Case(name: "alias bomb", arguments: ["validate", path("laughs.yaml")], fragments: ["laughs.yaml: the YAML expands to more than 5,000,000 nodes"]),
            // Running.
            Case(name: "run: no such file", arguments: ["run", path("nope.yaml")], fragments: ["nope.yaml: no such file"]),
            Case(name: "run: report.out is a file", arguments: ["run", path("report-file.yaml")], fragments: ["notes.txt is a file"]),
            Case(name: "run: --cache is a file", arguments: ["run", good, "--cache", path("notes.txt")], fragments: ["cache ", "notes.txt is a file, not a folder"]),
            Case(name: "report: bad pipeline", arguments: ["report", path("solver.yaml")], fragments: ["solver.yaml:6:", "magic"]),
            Case(name: "cache ls: bad pipeline", arguments: ["cache", "ls", path("latin1.yaml")], fragments: ["not UTF-8"]),
            Case(name: "run-task: unknown task", arguments: ["run-task", good, "--task", "solve/nothing"], fragments: ["no task solve/nothing"]),
            // .h5ad files.
            Case(name: "inspect: no such file", arguments: ["inspect", path("nope.h5ad")], fragments: ["nope.h5ad"]),
            Case(name: "inspect: not HDF5", arguments: ["inspect", path("notes.txt")], fragments: ["notes.txt", "HDF5"]),
            Case(name: "inspect: truncated", arguments: ["inspect", path("truncated.h5ad")], fragments: ["truncated.h5ad"]),
            Case(name: "inspect: a folder", arguments: ["inspect", folder.path], fragments: [folder.path]),
            Case(name: "inspect: obs column", arguments: ["inspect", path("demo.h5ad"), "--obs", "batch"], fragments: ["batch"]),
            Case(name: "etest: condition column", arguments: ["etest", path("demo.h5ad"), "--features", "X", "--condition-key", "batch", "--control", "control"],
                 fragments: ["demo.h5ad", "batch"]),
            Case(name: "score: not HDF5", arguments: ["score", "--real", path("notes.txt"), "--pred", path("demo.h5ad")], fragments: ["notes.txt"]),
            // Point clouds.
            Case(name: "ot: ragged CSV", arguments: ["ot", "--source", path("ragged.csv"), "--target", path("two.csv")], fragments: ["ragged.csv", "line 2"]),
            Case(name: "ot: text in CSV", arguments: ["ot", "--source", path("text.csv"), "--target", path("two.csv")], fragments: ["text.csv", "line 2", "abc"]),
            Case(name: "ot: empty CSV", arguments: ["ot", "--source", path("empty.csv"), "--target", path("two.csv")], fragments: ["empty.csv"]),
            Case(name: "ot: NaN in CSV", arguments: ["ot", "--source", path("nan.csv"), "--target", path("two.csv")], fragments: ["nan.csv"]),
            Case(name: "ot: broken .npy", arguments: ["ot", "--source", path("broken.npy"), "--target", path("two.csv")], fragments: ["broken.npy"]),
            Case(name: "ot: no such file", arguments: ["ot", "--source", path("nope.csv"), "--target", path("two.csv")], fragments: ["nope.csv: no such file"]),
            Case(name: "ot: dimensions differ", arguments: ["ot", "--source", path("two.csv"), "--target", path("three.csv")], fragments: ["2", "3"]),
            Case(name: "ot: missing obsm", arguments: ["ot", "--source", path("demo.h5ad"), "--target", path("demo.h5ad"), "--obsm", "X_pca"], fragments: ["X_pca"]),
            Case(name: "iot: no such file", arguments: ["iot", "--pairs", path("nope.h5ad"), "--epsilon", "1", "--lambda", "0.1", "--out", path("iot-out")], fragments: ["nope.h5ad"]),
            Case(name: "iot: joint solver with the nuclear norm",
                 arguments: ["iot", "--pairs", path("two.csv"), "--epsilon", "1", "--lambda", "0.1", "--penalty", "nuclear",
                             "--solver", "joint", "--out", path("iot-out")],
                 fragments: ["--solver joint takes --penalty l1 or none", "--solver nested"]),
            // Flags.
            flagCase("unknown flag", ["run", good, "--bogus"], ["unknown option '--bogus'"], help: "run"),
            flagCase("unknown subcommand", ["frob"], ["unexpected argument 'frob'"], help: ""),
            flagCase("missing argument", ["run"], ["missing the <file> argument"], help: "run"),
            flagCase("missing option", ["generate", "screen"], ["missing --out"], help: "generate screen"),
            flagCase("no subcommand", ["cache"], ["missing a subcommand: ls, gc"], help: "cache"),
            flagCase("a map not among the choices", ["ot", "--source", path("two.csv"), "--target", path("two.csv"), "--map", "foo"],
                     ["--map: 'foo' is not one of identity, mean_shift, eot,", "sparse_icnn"], help: "ot"),
            flagCase("a mode not among the choices", ["ot", "--source", path("two.csv"), "--target", path("two.csv"), "--mode", "fast"],
                     ["--mode: 'fast' is not one of automatic, dense, online"], help: "ot"),
            flagCase("not a number", ["ot", "--source", path("two.csv"), "--target", path("two.csv"), "--threshold", "abc"],
                     ["--threshold: 'abc' is not a valid value"], help: "ot"),
            flagCase("negative ε", ["ot", "--source", path("two.csv"), "--target", path("two.csv"), "--epsilon", "-1"],
                     ["--epsilon: must be a positive number or 'auto', got '-1'"], help: "ot"),
            flagCase("--jobs 0", ["run", good, "--jobs", "0"], ["--jobs: must be a whole number ≥ 1", "got 0"], help: "run"),
            flagCase("--jobs -1", ["run", good, "--jobs", "-1"], ["--jobs: must be a whole number ≥ 1", "got -1"], help: "run"),
            flagCase("--tasks-per-job 0", ["run", good, "--executor", "slurm", "--tasks-per-job", "0"], ["--tasks-per-job: must be a whole number ≥ 1"], help: "run"),
            flagCase("--poll 0", ["run", good, "--executor", "slurm", "--poll", "0"], ["--poll: must be a positive number of seconds"], help: "run"),
            flagCase("an executor not among the choices", ["run", good, "--executor", "pbs"], ["--executor: 'pbs' is not one of local, slurm"], help: "run"),
            flagCase("iterations 0", ["ot", "--source", path("two.csv"), "--target", path("two.csv"), "--map", "icnn", "--iterations", "0"],
                     ["--iterations: must be at least 1"], help: "ot"),
            flagCase("methods: unknown flag", ["methods", "--bogus"], ["unknown option '--bogus'"], help: "methods"),
        ]
    }

    func testEveryBadInputIsOneClearLine() throws {
        _ = Self.prepared
        let cases = Self.cases
        XCTAssertGreaterThanOrEqual(cases.count, 60)
        // PERTURBOT_BAD_INPUT_LOG=FILE writes each case and its message (the list in the issue's note).
        var log = ""
        for item in cases {
            let result = try CLI.run(item.arguments)
            log += "- \(item.name) (`perturbot \(item.arguments.first ?? "")`, exit \(result.status)): "
                + result.stderr.replacingOccurrences(of: Self.folder.path + "/", with: "").split(separator: "\n").prefix(2).joined(separator: " ⏎ ") + "\n"
            CLI.assertError(result, item.name, status: item.status, lines: item.lines, item.fragments)
            XCTAssertFalse(result.stderr.contains("NSCocoaErrorDomain") || result.stderr.contains("USAGE:"), "\(item.name): \(result.stderr)")
        }
        if let path = ProcessInfo.processInfo.environment["PERTURBOT_BAD_INPUT_LOG"] { try Data(log.utf8).write(to: URL(fileURLWithPath: path)) }
        // The run refused before any task: the user's file is as it was.
        XCTAssertEqual(try String(contentsOfFile: Self.path("notes.txt"), encoding: .utf8), "not an h5ad file\n")
    }
}
