import Foundation
import TestSupport
import XCTest

/// `perturbot ot` end to end: values against the OTT-JAX fixtures, every input format, errors.
final class OTCommandTests: XCTestCase {
    private func fixture(_ name: String) -> String {
        TestPaths.otFixtures.appendingPathComponent(name).path
    }

    private func referenceCase(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: TestPaths.otFixtures.appendingPathComponent("ot_fixtures.json"))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap((root["cases"] as? [String: Any])?[name] as? [String: Any])
    }

    private func json(_ arguments: [String]) throws -> [String: Any] {
        let result = try CLI.run(arguments + ["--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
    }

    private let tight = ["--threshold", "1e-10", "--max-iterations", "200000"]

    /// --tau-a/--tau-b: OTT-JAX's unbalanced cost and plan mass, and each query point's retained
    /// mass (the plan's row mass × n at the source points).
    func testUnbalancedSolveAndRetainedMass() throws {
        let data = try Data(contentsOf: TestPaths.otFixtures.appendingPathComponent("unbalanced_fixtures.json"))
        let cases = try XCTUnwrap((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["cases"] as? [[String: Any]])
        let expected = try XCTUnwrap(cases.first { ($0["tau_a"] as? Double) == 0.8 && ($0["tau_b"] as? Double) == 0.8 })
        let base = ["ot", "--source", fixture("unbalanced_x.csv"), "--target", fixture("unbalanced_y.csv"), "--epsilon", "0.5",
                    "--tau-a", "0.8", "--tau-b", "0.8", "--threshold", "1e-11", "--max-iterations", "200000"]
        let solved = try json(base)
        XCTAssertEqual(try XCTUnwrap(solved["reg_ot_cost"] as? Double), try XCTUnwrap(expected["reg_ot_cost"] as? Double), accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(solved["plan_mass"] as? Double), try XCTUnwrap(expected["plan_mass"] as? Double), accuracy: 1e-6)
        let folder = try TestPaths.scratchDirectory()
        let masses = folder.appendingPathComponent("mass.csv").path
        let mapped = try CLI.run(base + ["--map", "untuned", "--apply", fixture("unbalanced_x.csv"),
                                         "--out", folder.appendingPathComponent("moved.csv").path, "--mass-out", masses])
        XCTAssertEqual(mapped.status, 0, mapped.stderr)
        XCTAssertTrue(mapped.stdout.contains("plan_mass: "), mapped.stdout)
        let retained = try String(contentsOfFile: masses, encoding: .utf8).split(separator: "\n").compactMap { Double($0) }
        let rows = try XCTUnwrap(expected["row_mass"] as? [Double])
        XCTAssertEqual(retained.count, rows.count)
        // untuned is OTT's default ε, not 0.5: the masses differ from the fixture's but keep its order.
        XCTAssertEqual(retained.indices.sorted { retained[$0] < retained[$1] }.first, rows.indices.sorted { rows[$0] < rows[$1] }.first)
        try CLI.assertOneLineError(base + ["--map", "debiased", "--apply", fixture("unbalanced_x.csv"), "--out", "/tmp/x.csv"],
                                   ["--tau-a", "debiased fits balanced OT only"])
        try CLI.assertFlagError(["ot", "--source", fixture("unbalanced_x.csv"), "--target", fixture("unbalanced_y.csv"), "--tau-b", "0"],
                                ["tau_b must be in (0, 1]"], help: "ot")
    }

    func testCostDivergenceAndMapMatchOTT() throws {
        let reference = try referenceCase("small")
        let scratch = try TestPaths.scratchDirectory()
        let out = scratch.appendingPathComponent("mapped.csv").path
        let printed = try json(["ot", "--source", fixture("small_x.csv"), "--target", fixture("small_y.csv"),
                                "--epsilon", "0.5", "--divergence", "--map", "eot",
                                "--apply", fixture("small_query.csv"), "--out", out] + tight)
        let cost = try XCTUnwrap(reference["reg_ot_cost"] as? Double)
        let divergence = try XCTUnwrap(reference["sinkhorn_divergence"] as? Double)
        XCTAssertEqual(try XCTUnwrap(printed["reg_ot_cost"] as? Double), cost, accuracy: 1e-8 * abs(cost))
        XCTAssertEqual(try XCTUnwrap(printed["sinkhorn_divergence"] as? Double), divergence, accuracy: 1e-7 * abs(divergence))
        XCTAssertEqual(printed["epsilon"] as? Double, 0.5)
        XCTAssertEqual(printed["converged"] as? Bool, true)
        XCTAssertNotNil(printed["iterations"] as? Int)

        let mapped = try TestPaths.numericCSV(URL(fileURLWithPath: out))
        let expected = try XCTUnwrap(reference["query_mapped"] as? [[Double]])
        XCTAssertEqual(mapped.count, expected.count)
        for (row, expectedRow) in zip(mapped, expected) {
            for (value, expectedValue) in zip(row, expectedRow) { XCTAssertEqual(value, expectedValue, accuracy: 1e-7) }
        }
    }

    /// `--cost elastic_l1 --map mbo` against OTT-JAX's `RegTICost(L1())` (elastic_fixtures.json).
    func testElasticCostAndMBOMapMatchOTT() throws {
        let data = try Data(contentsOf: TestPaths.otFixtures.appendingPathComponent("elastic_fixtures.json"))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let reference = try XCTUnwrap((root["cases"] as? [String: Any])?["elastic_l1"] as? [String: Any])
        let out = try TestPaths.scratchDirectory().appendingPathComponent("mbo.csv").path
        let printed = try json(["ot", "--source", fixture("elastic_x.csv"), "--target", fixture("elastic_y.csv"),
                                "--cost", "elastic_l1", "--lambda", "1", "--epsilon", "0.5", "--map", "mbo",
                                "--apply", fixture("elastic_query.csv"), "--out", out] + tight)
        let cost = try XCTUnwrap(reference["reg_ot_cost"] as? Double)
        XCTAssertEqual(try XCTUnwrap(printed["reg_ot_cost"] as? Double), cost, accuracy: 1e-8 * abs(cost))
        XCTAssertTrue((printed["cost"] as? String)?.hasPrefix("elastic_l1") ?? false, "\(printed)")
        let mapped = try TestPaths.numericCSV(URL(fileURLWithPath: out))
        let expected = try XCTUnwrap(reference["transported"] as? [[Double]])
        XCTAssertEqual(mapped.count, expected.count)
        for (row, expectedRow) in zip(mapped, expected) {
            for (value, expectedValue) in zip(row, expectedRow) { XCTAssertEqual(value, expectedValue, accuracy: 1e-7) }
        }

        let auto = try json(["ot", "--source", fixture("elastic_x.csv"), "--target", fixture("elastic_y.csv"),
                             "--cost", "elastic_stvs", "--gamma", "2", "--lambda", "0.5"])
        let defaultEpsilon = try XCTUnwrap((root["cases"] as? [String: Any])?["elastic_stvs_l05"] as? [String: Any])?["default_epsilon"] as? Double
        XCTAssertEqual(try XCTUnwrap(auto["epsilon"] as? Double), try XCTUnwrap(defaultEpsilon), accuracy: 1e-12)

        for (arguments, fragments) in [
            (["--cost", "manhattan"], ["--cost", "elastic_l1"]),
            (["--cost", "elastic_stvs", "--lambda", "3"], ["λ ≤ 2"]),
            (["--cost", "elastic_l1", "--map", "debiased", "--apply", fixture("elastic_query.csv"), "--out", out], ["debiased", "‖x − y‖²"]),
        ] {
            try CLI.assertOneLineError(["ot", "--source", fixture("elastic_x.csv"), "--target", fixture("elastic_y.csv")] + arguments,
                                       fragments)
        }
    }

    func testNpyAndH5adInputsAndFloatPrecision() throws {
        let scratch = try TestPaths.scratchDirectory()
        // The same cloud as small_x.csv, as a float64 .npy in Fortran order.
        let x = try TestPaths.numericCSV(URL(fileURLWithPath: fixture("small_x.csv")))
        let npy = scratch.appendingPathComponent("x.npy").path
        try NumpyTestFile.float64(x, fortranOrder: true).write(to: URL(fileURLWithPath: npy))
        let fromCSV = try json(["ot", "--source", fixture("small_x.csv"), "--target", fixture("small_y.csv"), "--epsilon", "0.5"])
        let fromNpy = try json(["ot", "--source", npy, "--target", fixture("small_y.csv"), "--epsilon", "0.5"])
        XCTAssertEqual(fromCSV["reg_ot_cost"] as? Double, fromNpy["reg_ot_cost"] as? Double)

        let float = try json(["ot", "--source", npy, "--target", fixture("small_y.csv"), "--epsilon", "0.5", "--precision", "float"])
        XCTAssertEqual(try XCTUnwrap(float["reg_ot_cost"] as? Double), try XCTUnwrap(fromCSV["reg_ot_cost"] as? Double), accuracy: 1e-4)
        XCTAssertEqual(float["precision"] as? String, "float")

        let h5ad = TestPaths.fixture("dense_f64")
        let fromX = try json(["ot", "--source", h5ad, "--target", h5ad])
        XCTAssertEqual(fromX["n"] as? Int, 30)
        XCTAssertEqual(fromX["d"] as? Int, 10)
        // Plain Sinkhorn on a cloud with itself converges slowly; 1e-6 is reached in ~3000 iterations.
        let fromObsm = try json(["ot", "--source", h5ad, "--target", h5ad, "--obsm", "X_pca", "--divergence",
                                 "--threshold", "1e-6", "--max-iterations", "20000"])
        XCTAssertEqual(fromObsm["d"] as? Int, 3)
        XCTAssertEqual(fromObsm["sinkhorn_divergence_converged"] as? Bool, true)
        XCTAssertEqual(try XCTUnwrap(fromObsm["sinkhorn_divergence"] as? Double), 0, accuracy: 1e-7)
    }

    func testEveryMapMethodWritesOnePointPerQueryRow() throws {
        let scratch = try TestPaths.scratchDirectory()
        // Each method gets only the flags it takes (a map flag its method lacks is refused).
        let flags = ["progot": ["--steps", "4"], "icnn": ["--iterations", "20"]]
        for method in ["eot", "untuned", "debiased", "progot", "identity", "mean_shift", "icnn"] {
            let out = scratch.appendingPathComponent("\(method).csv").path
            let printed = try json(["ot", "--source", fixture("medium_x.csv"), "--target", fixture("medium_y.csv"),
                                    "--map", method] + (flags[method] ?? []) + [
                                    "--apply", fixture("medium_query.csv"), "--out", out])
            let map = try XCTUnwrap(printed["map"] as? [String: Any], method)
            XCTAssertEqual(map["method"] as? String, method)
            XCTAssertEqual(map["converged"] as? Bool, true, method)
            let rows = try TestPaths.numericCSV(URL(fileURLWithPath: out))
            XCTAssertEqual(rows.count, 5, method)
            XCTAssertTrue(rows.allSatisfy { $0.count == 8 }, method)
        }
    }

    func testNeuralMapsReportTheirDiagnostics() throws {
        let scratch = try TestPaths.scratchDirectory()
        let cases: [(arguments: [String], keys: Set<String>)] = [
            (["--map", "monge_gap", "--iterations", "3"], ["fitting_divergence", "monge_gap", "unconverged_steps"]),
            (["--map", "sparse_icnn", "--iterations", "10", "--penalty", "l1", "--lambda", "0.01"],
             ["final_lambda", "sliced_w2", "moved_coordinates"]),
            (["--map", "sparse_icnn", "--iterations", "10", "--penalty", "stvs", "--dimension-threshold", "3"],
             ["final_lambda", "sliced_w2", "moved_coordinates"]),
        ]
        for (index, test) in cases.enumerated() {
            let out = scratch.appendingPathComponent("neural\(index).csv").path
            let printed = try json(["ot", "--source", fixture("medium_x.csv"), "--target", fixture("medium_y.csv")] + test.arguments
                                   + ["--apply", fixture("medium_query.csv"), "--out", out])
            let map = try XCTUnwrap(printed["map"] as? [String: Any], "\(test.arguments)")
            XCTAssertTrue(test.keys.isSubset(of: Set(map.keys)), "\(map)")
            XCTAssertEqual(try TestPaths.numericCSV(URL(fileURLWithPath: out)).count, 5)
        }
        let bad = try CLI.run(["ot", "--source", fixture("medium_x.csv"), "--target", fixture("medium_y.csv"), "--map", "sparse_icnn",
                               "--lambda=-1", "--apply", fixture("medium_query.csv"), "--out", scratch.appendingPathComponent("x.csv").path])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("--lambda: must be a number ≥ 0"), bad.stderr)
    }

    func testEgnotDrawsSamplesPerPointAndShowsProgress() throws {
        let scratch = try TestPaths.scratchDirectory()
        let out = scratch.appendingPathComponent("egnot.csv").path
        let base = ["ot", "--source", fixture("medium_x.csv"), "--target", fixture("medium_y.csv"), "--map", "egnot",
                    "--iterations", "4", "--set", "langevin_steps=5", "--set", "test_langevin_steps=10",
                    "--set", "batch_size=32", "--set", "hidden=8", "--set", "iterations=4",
                    "--apply", fixture("medium_query.csv"), "--out", out]
        let result = try CLI.run(base + ["--samples-per-point", "3", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let printed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let map = try XCTUnwrap(printed["map"] as? [String: Any])
        XCTAssertEqual(map["stochastic"] as? Bool, true)
        XCTAssertEqual(map["rows_written"] as? Int, 15)
        XCTAssertTrue(Set(["final_loss", "epsilon", "langevin_steps_test"]).isSubset(of: Set(map.keys)), "\(map)")
        let rows = try TestPaths.numericCSV(URL(fileURLWithPath: out))
        XCTAssertEqual(rows.count, 15)
        XCTAssertTrue(rows.allSatisfy { $0.count == 8 && $0.allSatisfy(\.isFinite) })
        // Three draws for the same point differ: the map samples.
        XCTAssertNotEqual(rows[0], rows[1])
        // Training reports its progress on stderr (first and last step when not a terminal).
        XCTAssertTrue(result.stderr.contains("egnot step 1/4"), result.stderr)
        XCTAssertTrue(result.stderr.contains("egnot step 4/4"), result.stderr)
        let deterministic = try CLI.run(["ot", "--source", fixture("medium_x.csv"), "--target", fixture("medium_y.csv"),
                                         "--map", "eot", "--samples-per-point", "2", "--apply", fixture("medium_query.csv"), "--out", out])
        XCTAssertNotEqual(deterministic.status, 0)
        XCTAssertTrue(deterministic.stderr.contains("--samples-per-point: needs a stochastic map (--map egnot)"), deterministic.stderr)
    }

    /// Every iterative map reports its steps to stderr (first and last when not a terminal;
    /// redrawn in place, with its ETA, on one).
    func testNeuralAndProgressiveFitsReportTheirSteps() throws {
        let out = try TestPaths.scratchDirectory().appendingPathComponent("moved.csv").path
        let cases: [(arguments: [String], fragments: [String])] = [
            (["--map", "icnn", "--iterations", "30"], ["icnn step 1/30", "icnn step 30/30"]),
            (["--map", "monge_gap", "--iterations", "5"], ["monge_gap step 1/5", "monge_gap step 5/5"]),
            (["--map", "progot", "--steps", "4"], ["progot step 1/4 ε ", "progot step 4/4 ε ", "Sinkhorn iterations"]),
        ]
        for (arguments, fragments) in cases {
            let result = try CLI.run(["ot", "--source", fixture("medium_x.csv"), "--target", fixture("medium_y.csv")]
                                     + arguments + ["--apply", fixture("medium_query.csv"), "--out", out])
            XCTAssertEqual(result.status, 0, result.stderr)
            for fragment in fragments { XCTAssertTrue(result.stderr.contains(fragment), "\(arguments): \(result.stderr)") }
        }
    }

    /// On a terminal (a pseudo-terminal from util-linux's `script`), a fit of several seconds
    /// redraws its progress line as it goes: step, total and its own ETA, not only at the end.
    func testProgressIsRedrawnDuringALongFitOnATerminal() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("no /usr/bin/script") }
        let out = try TestPaths.scratchDirectory().appendingPathComponent("moved.csv").path
        let command = [CLI.path, "ot", "--source", fixture("medium_x.csv"), "--target", fixture("medium_y.csv"),
                       "--map", "icnn", "--iterations", "800", "--apply", fixture("medium_query.csv"), "--out", out]
            .map { "'\($0)'" }.joined(separator: " ")
        let start = Date()
        let result = try ProcessRunner.run("/usr/bin/script", ["-qfec", command, "/dev/null"])
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let redraws = result.stdout.components(separatedBy: "\r").filter { $0.contains("icnn step") }
        let steps = Set(redraws.compactMap { line -> Int? in
            guard let range = line.range(of: #"icnn step (\d+)/800"#, options: .regularExpression) else { return nil }
            return Int(line[range].dropFirst("icnn step ".count).prefix { $0 != "/" })
        })
        // One redraw a second at most: a fit of s seconds shows about s intermediate steps.
        XCTAssertGreaterThanOrEqual(steps.filter { $0 > 1 && $0 < 800 }.count, min(3, Int(seconds) - 1),
                                    "\(seconds) s, steps shown: \(steps.sorted())")
        XCTAssertTrue(redraws.contains { $0.contains(" eta ") }, redraws.joined(separator: " | "))
        XCTAssertTrue(steps.contains(800), "\(steps.sorted())")
    }

    func testProgOTPrintsEveryStepAndTakesPipelineParameters() throws {
        let scratch = try TestPaths.scratchDirectory()
        let out = scratch.appendingPathComponent("progot.csv").path
        let base = ["ot", "--source", fixture("medium_x.csv"), "--target", fixture("medium_y.csv"), "--map", "progot",
                    "--apply", fixture("medium_query.csv"), "--out", out]
        let printed = try json(base + ["--set", "steps=4", "--set", "alpha=quad", "--set", "warm_start=true",
                                       "--set", "start_threshold=0.01"])
        let map = try XCTUnwrap(printed["map"] as? [String: Any])
        let steps = try XCTUnwrap(map["steps"] as? [[String: Any]])
        let search = steps.filter { $0["role"] as? String == "epsilon_search" }
        let progressive = steps.filter { $0["role"] as? String == "progot_step" }
        XCTAssertEqual(search.count, 10)
        XCTAssertTrue(search.allSatisfy { $0["scale"] is Double && $0["held_out_error"] is Double })
        XCTAssertEqual(progressive.map { $0["index"] as? Int }, [1, 2, 3, 4])
        // quad α for K = 4 (OTT's get_alpha_schedule), and thresholds 1e-2 → 1e-3 geometrically.
        let alphas = progressive.compactMap { $0["alpha"] as? Double }
        for (alpha, expected) in zip(alphas, [3.0 / 24, 5.0 / 21, 7.0 / 16, 1]) { XCTAssertEqual(alpha, expected, accuracy: 1e-12) }
        let thresholds = progressive.compactMap { $0["threshold"] as? Double }
        for (threshold, expected) in zip(thresholds, [1e-2, 1e-2 * pow(0.1, 1.0 / 3), 1e-2 * pow(0.1, 2.0 / 3), 1e-3]) {
            XCTAssertEqual(threshold, expected, accuracy: 1e-12)
        }
        XCTAssertTrue(progressive.allSatisfy { ($0["iterations"] as? Int ?? 0) >= 1 && $0["converged"] as? Bool == true })
        XCTAssertTrue(progressive.allSatisfy { ($0["marginal_error"] as? Double).map { $0 < 1e-2 } ?? false })
        // The ε schedule moves monotonically from the start ε towards the tuned end ε (here the
        // tuned end lies above the start, so it rises).
        let epsilons = progressive.compactMap { $0["epsilon"] as? Double }
        XCTAssertEqual(epsilons.count, 4)
        XCTAssertTrue(epsilons == epsilons.sorted(by: >) || epsilons == epsilons.sorted(), "\(epsilons)")

        // Text output lists the same runs, one a line.
        let text = try CLI.run(base + ["--set", "steps=2"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("solver runs:\n  epsilon_search 1: ε "), text.stdout)
        XCTAssertTrue(text.stdout.contains("  progot_step 2: ε "), text.stdout)

        // An unconverged step is named on stderr.
        let starved = try CLI.run(base + ["--set", "steps=2", "--max-iterations", "1", "--threshold", "1e-12"])
        XCTAssertEqual(starved.status, 0)
        XCTAssertTrue(starved.stderr.contains("perturbot: warning: progot_step 2 (ε "), starved.stderr)

        // --set is checked against the solver's schema.
        for (assignment, message) in [
            ("stepz=4", "--set: progot has no parameter 'stepz' (it takes: steps, alpha"),
            ("steps=0", "--set: 'steps' must be an integer ≥ 1, got 0"),
            ("warm_start=yes", "--set: 'warm_start' must be true or false, got 'yes'"),
            ("steps", "--set expects KEY=VALUE, got 'steps'"),
        ] {
            let bad = try CLI.run(base + ["--set", assignment])
            XCTAssertNotEqual(bad.status, 0, assignment)
            XCTAssertTrue(bad.stderr.contains(message), "\(assignment): \(bad.stderr)")
        }
    }

    func testNonConvergenceIsReportedNotHidden() throws {
        let result = try CLI.run(["ot", "--source", fixture("small_x.csv"), "--target", fixture("small_y.csv"),
                                  "--epsilon", "0.01", "--max-iterations", "3", "--json"])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stdout.contains(#""converged":false"#), result.stdout)
        XCTAssertTrue(result.stderr.hasPrefix("perturbot: warning: Sinkhorn did not converge in 3 iterations"), result.stderr)
    }

    func testSinkhornAcceleratorFlagsReachThePlainOptimumSooner() throws {
        let base = ["ot", "--source", fixture("medium_x.csv"), "--target", fixture("medium_y.csv"),
                    "--epsilon", "0.05", "--threshold", "1e-6", "--max-iterations", "20000"]
        let plain = try json(base)
        let plainIterations = try XCTUnwrap(plain["iterations"] as? Int)
        let plainCost = try XCTUnwrap(plain["reg_ot_cost"] as? Double)
        for extra in [["--momentum", "1.5"], ["--momentum", "adaptive:20"], ["--epsilon-init", "10", "--epsilon-decay", "0.9"],
                      ["--anderson", "5"]] {
            let accelerated = try json(base + extra)
            XCTAssertEqual(accelerated["converged"] as? Bool, true, "\(extra)")
            XCTAssertLessThan(try XCTUnwrap(accelerated["iterations"] as? Int), plainIterations, "\(extra)")
            XCTAssertEqual(try XCTUnwrap(accelerated["reg_ot_cost"] as? Double), plainCost, accuracy: 1e-6 * plainCost, "\(extra)")
        }
        for (bad, message) in [(["--momentum", "2"], "--momentum"), (["--momentum", "adaptive:2"], "--momentum"),
                               (["--epsilon-init", "10"], "go together"), (["--epsilon-init", "0.5", "--epsilon-decay", "0.9"], "--epsilon-init"),
                               (["--anderson", "0"], "--anderson")] {
            let result = try CLI.run(base + bad)
            XCTAssertNotEqual(result.status, 0, "\(bad)")
            XCTAssertTrue(result.stderr.contains(message), "\(bad): \(result.stderr)")
        }
    }

    func testBadInputGivesOneClearErrorLine() throws {
        let scratch = try TestPaths.scratchDirectory()
        func file(_ name: String, _ text: String) throws -> String {
            let path = scratch.appendingPathComponent(name).path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        let ragged = try file("ragged.csv", "1,2,3\n4,5,6\n7,8\n")
        let header = try file("header.csv", "a,b,c\n1,2,3\n")
        let nan = try file("nan.csv", "1,2,3\n4,NaN,6\n")
        let infinite = try file("inf.csv", "1,2,3\n4,5,inf\n")
        let empty = try file("empty.csv", "\n\n")
        let twoD = try file("two.csv", "1,2\n3,4\n")
        let blankField = try file("blank.csv", "1,,3\n")
        let cut = try file("cut.csv", "1,2,3\n4,5,6.2")  // a download stopped inside 6.25
        let notNpy = try file("fake.npy", "1,2,3\n")
        let vector = scratch.appendingPathComponent("vector.npy").path
        try NumpyTestFile.float64([[1, 2, 3]], shapeOverride: "(3,)").write(to: URL(fileURLWithPath: vector))
        let truncated = scratch.appendingPathComponent("truncated.npy").path
        try NumpyTestFile.float64([[1, 2, 3], [4, 5, 6]]).dropLast(8).write(to: URL(fileURLWithPath: truncated))
        let good = fixture("small_x.csv")
        let missing = scratch.appendingPathComponent("absent.csv").path
        let cases: [([String], [String])] = [
            (["ot", "--source", ragged, "--target", good], [ragged, "line 3", "expected 3 values", "found 2"]),
            (["ot", "--source", good, "--target", header], [header, "line 1, column 1", "'a' is not a number"]),
            (["ot", "--source", nan, "--target", good], [nan, "line 2, column 2", "not a finite number"]),
            (["ot", "--source", good, "--target", infinite], [infinite, "line 2, column 3", "not a finite number"]),
            (["ot", "--source", empty, "--target", good], [empty, "no points"]),
            (["ot", "--source", good, "--target", twoD], [good, "3 coordinates", twoD, "2"]),
            (["ot", "--source", blankField, "--target", good], [blankField, "line 1, column 2", "empty value"]),
            (["ot", "--source", cut, "--target", good], [cut, "line 2", "no line break", "cut off in the middle of a number"]),
            (["ot", "--source", notNpy, "--target", good], [notNpy, "not a NumPy .npy file"]),
            (["ot", "--source", vector, "--target", good], [vector, "shape", "not 2-D"]),
            (["ot", "--source", truncated, "--target", good], [truncated, "truncated"]),
            (["ot", "--source", missing, "--target", good], [missing, "no such file"]),
            (["ot", "--source", good, "--target", good, "--map", "eot", "--apply", twoD, "--out",
              scratch.appendingPathComponent("never.csv").path], [twoD, "2 coordinates"]),
            (["ot", "--source", TestPaths.fixture("dense_f64"), "--target", TestPaths.fixture("dense_f64"),
              "--obsm", "X_umap"], ["obsm/X_umap", "no such entry", "X_pca"]),
        ]
        for (arguments, fragments) in cases { try CLI.assertOneLineError(arguments, fragments) }
        // A negative number is the option's value (not a missing one), refused for what it is.
        try CLI.assertFlagError(["ot", "--source", good, "--target", good, "--epsilon", "-1"],
                                ["--epsilon: must be a positive number or 'auto', got '-1'"], help: "ot")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("never.csv").path))
    }

    /// `--epsilon auto` means OTT's default ε for every method, so eot at auto is untuned; map
    /// flags go to the method's parameter of that name, and a flag it does not take is refused.
    func testMapFlagsAreTheMethodsParameters() throws {
        let scratch = try TestPaths.scratchDirectory()
        let base = ["ot", "--source", fixture("medium_x.csv"), "--target", fixture("medium_y.csv"), "--apply", fixture("medium_query.csv")]
        func points(_ arguments: [String]) throws -> [[Double]] {
            let out = scratch.appendingPathComponent("\(arguments.joined(separator: "_")).csv").path
            let result = try CLI.run(base + arguments + ["--out", out])
            XCTAssertEqual(result.status, 0, result.stderr)
            return try TestPaths.numericCSV(URL(fileURLWithPath: out))
        }
        XCTAssertEqual(try points(["--map", "eot", "--epsilon", "auto"]), try points(["--map", "untuned"]))
        XCTAssertNotEqual(try points(["--map", "eot"]), try points(["--map", "untuned"]), "eot without --epsilon tunes ε")
        // --penalty reaches mbo: STVS, as --cost elastic_stvs gives it, not the L1 map.
        let stvs = try points(["--map", "mbo", "--penalty", "stvs", "--lambda", "0.5", "--epsilon", "0.5"])
        XCTAssertEqual(stvs, try points(["--map", "mbo", "--cost", "elastic_stvs", "--lambda", "0.5", "--epsilon", "0.5"]))
        XCTAssertNotEqual(stvs, try points(["--map", "mbo", "--penalty", "l1", "--lambda", "0.5", "--epsilon", "0.5"]))
        // The costs reach progot and eot.
        XCTAssertNotEqual(try points(["--map", "progot", "--cost", "pnorm", "--p", "1.5", "--steps", "2"]),
                          try points(["--map", "progot", "--steps", "2"]))
        let out = scratch.appendingPathComponent("refused.csv").path
        for (arguments, fragments) in [
            (["--map", "eot", "--steps", "4"], ["--steps", "eot has no parameter 'steps'"]),
            (["--map", "icnn", "--penalty", "l1"], ["--penalty", "icnn has no parameter 'penalty'"]),
            (["--map", "mbo", "--penalty", "smoothed_l0"], ["--penalty", "'penalty' must be one of l1, stvs"]),
            (["--map", "debiased", "--epsilon", "tuned"], ["--epsilon", "'epsilon' must be auto or a number > 0, got 'tuned'"]),
            (["--map", "identity", "--epsilon", "tuned"], ["--epsilon tuned", "identity has no ε to tune"]),
            (["--map", "mbo", "--cost", "pnorm"], ["--cost pnorm", "mbo"]),
        ] {
            try CLI.assertOneLineError(base + arguments + ["--out", out], fragments)
        }
    }

    func testMethodsListsTheCatalog() throws {
        let result = try CLI.run(["methods", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let methods = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(methods.compactMap { $0["name"] as? String },
                       ["identity", "mean_shift", "eot", "untuned", "debiased", "progot", "mbo", "icnn", "monge_gap", "egnot", "sparse_icnn"])
        let progot = try XCTUnwrap(methods.first { $0["name"] as? String == "progot" }?["parameters"] as? [[String: Any]])
        let steps = try XCTUnwrap(progot.first { $0["name"] as? String == "steps" })
        XCTAssertEqual(steps["default"] as? String, "4")
        XCTAssertEqual(steps["type"] as? String, "integer ≥ 1")
        let text = try CLI.run(["methods", "eot"])
        XCTAssertTrue(text.stdout.hasPrefix("eot: entropic map"), text.stdout)
        try CLI.assertOneLineError(["methods", "magic"], ["unknown method 'magic'"])
        try CLI.assertOneLineError(["methods", "eot", "--markdown"], ["--markdown", "leave out the method names"])
    }
}

/// Builds .npy files byte by byte (format version 1), independent of the reader under test.
enum NumpyTestFile {
    static func float64(_ rows: [[Double]], fortranOrder: Bool = false, shapeOverride: String? = nil) -> Data {
        let n = rows.count, d = rows.first?.count ?? 0
        let shape = shapeOverride ?? "(\(n), \(d))"
        var header = "{'descr': '<f8', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shape), }"
        // Magic (6) + version (2) + length (2) + header + newline, padded to a multiple of 64.
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
        let length = UInt16(header.utf8.count)
        data += Data([UInt8(length & 0xFF), UInt8(length >> 8)]) + Data(header.utf8)
        let ordered = fortranOrder ? (0..<d).flatMap { j in rows.map { $0[j] } } : rows.flatMap { $0 }
        for value in ordered { withUnsafeBytes(of: value.bitPattern.littleEndian) { data += Data($0) } }
        return data
    }
}
