import AnnData
import Foundation
import Methods
import Pipeline
import Stages
import TestSupport
import Transport
import XCTest

/// Pipeline files: a valid one read into the spec, malformed ones each rejected with the
/// message and the line:column of the problem.
final class SpecParserTests: XCTestCase {
    private let valid = """
        name: demo-4i
        data: { path: demo.h5ad, condition_key: drug, control: control, features: X }
        drugs: [cisplatin, ixazomib]
        pca: { components: [16, 32] }
        split: { test_fraction: 0.2, seeds: [0, 1] }
        methods:
          identity: { solver: identity }
          progot: { solver: progot, steps: 8, alpha: quad, warm_start: true }
          eot: { solver: eot, epsilon: tuned }
          fixed: { solver: eot, epsilon: 0.5, threshold: 1e-4 }
        evaluate: { metrics: [sinkhorn_divergence, mean_l2], sinkhorn_epsilon: auto }
        report: { out: reports/demo, formats: [markdown, csv] }

        """

    func testValidFileIsReadCompletely() throws {
        let spec = try SpecParser.parse(valid, file: "demo.yaml")
        XCTAssertEqual(spec.name, "demo-4i")
        XCTAssertEqual(spec.data.path.value, "demo.h5ad")
        XCTAssertEqual(spec.data.control.location, SourceLocation(line: 2, column: 56))
        XCTAssertEqual(spec.drugs, .list([
            Located(value: "cisplatin", location: SourceLocation(line: 3, column: 9)),
            Located(value: "ixazomib", location: SourceLocation(line: 3, column: 20)),
        ]))
        XCTAssertEqual(spec.pcaComponents.map(\.value), [16, 32])
        XCTAssertEqual(spec.split, PipelineSpec.SplitSpec(testFraction: 0.2, seeds: [0, 1]))
        XCTAssertEqual(spec.methods.map(\.name), ["identity", "progot", "eot", "fixed"])
        XCTAssertEqual(spec.methods[1].parameters, ["steps": .integer(8), "alpha": .text("quad"), "warm_start": .flag(true)])
        XCTAssertEqual(spec.methods[3].parameters, ["epsilon": .number(0.5), "threshold": .number(1e-4)])
        XCTAssertEqual(spec.evaluate, PipelineSpec.EvaluateSpec(metrics: [.sinkhorn_divergence, .mean_l2], sinkhornEpsilon: nil))
        XCTAssertEqual(spec.report, PipelineSpec.ReportSpec(out: "reports/demo", formats: [.markdown, .csv], savePredictions: false))
    }

    func testDefaultsForOptionalSections() throws {
        let spec = try SpecParser.parse("""
            name: small
            data: { path: d.h5ad, condition_key: drug, control: ctrl }
            drugs: all
            pca: { components: 16 }
            split: { test_fraction: 0.25, seeds: 3 }
            methods: { p: { solver: progot } }
            """, file: "small.yaml")
        XCTAssertEqual(spec.drugs, .all)
        XCTAssertEqual(spec.data.features.value, "X")
        XCTAssertEqual(spec.data.transform, .none)
        XCTAssertEqual(spec.split.seeds, [3])
        XCTAssertEqual(spec.evaluate.metrics, PipelineSpec.Metric.defaults)
        XCTAssertEqual(spec.pca, .components([Located(value: 16, location: SourceLocation(line: 4, column: 20))]))
        XCTAssertEqual(spec.report.out, "reports/small")
    }

    /// Each malformed file: the complete list of `FILE:LINE:COLUMN: message` lines.
    func testMalformedFilesGiveOneLocatedMessagePerProblem() {
        func lines(replacing old: String, with new: String) -> [String] {
            XCTAssertTrue(valid.contains(old), old)
            do {
                _ = try SpecParser.parse(valid.replacingOccurrences(of: old, with: new), file: "p.yaml")
                return ["(no error)"]
            } catch let error as PipelineSpecError {
                return error.lines
            } catch {
                return ["unexpected \(error)"]
            }
        }
        let cases: [(old: String, new: String, expected: [String])] = [
            ("name: demo-4i", "nme: demo-4i",
             ["p.yaml:1:1: the pipeline file: unknown key 'nme' (expected name, data, drugs, pca, split, methods, evaluate, report)",
              "p.yaml:1:1: the pipeline file: missing key 'name'"]),
            ("features: X }", "features: X, colour: red }",
             ["p.yaml:2:78: data: unknown key 'colour' (expected path, condition_key, context_key, control, features, var_names, transform, target_sum, true_map, true_programs)"]),
            ("split: { test_fraction: 0.2", "split: { test_fraction: 1.5",
             ["p.yaml:5:25: split.test_fraction must be a number strictly between 0 and 1, got 1.5"]),
            ("seeds: [0, 1]", "seeds: [0, -1]", ["p.yaml:5:41: split.seeds must hold integers ≥ 0, got '-1'"]),
            ("components: [16, 32]", "components: [16, sixteen]",
             ["p.yaml:4:25: pca.components must hold integers ≥ 1, got 'sixteen'"]),
            ("solver: identity", "solver: magic",
             ["p.yaml:7:23: methods.identity.solver: unknown solver 'magic' (expected one of identity, mean_shift, eot, untuned, debiased, progot, mbo, icnn, monge_gap, egnot, sparse_icnn)"]),
            ("steps: 8", "steps: 0", ["p.yaml:8:36: methods.progot: 'steps' must be an integer ≥ 1, got 0"]),
            ("alpha: quad", "alpha: cubic", ["p.yaml:8:46: methods.progot: 'alpha' must be one of lin, exp, quad, got 'cubic'"]),
            ("warm_start: true", "warm_start: yes please",
             ["p.yaml:8:64: methods.progot: 'warm_start' must be true or false, got 'yes please'"]),
            ("epsilon: tuned", "epsilon: tuned, lambda: 3",
             ["p.yaml:9:39: methods.eot: unknown parameter 'lambda' for solver eot (expected epsilon, held_out_fraction, cost, threshold, max_iterations, mode, momentum, epsilon_init, epsilon_decay, anderson, tau_a, tau_b)"]),
            ("threshold: 1e-4", "threshold: -1", ["p.yaml:10:50: methods.fixed: 'threshold' must be a number > 0, got '-1'"]),
            ("  identity: { solver: identity }\n", "  identity: { solver: mbo, penalty: stvs, lambda: 3 }\n",
             ["p.yaml:7:13: methods.identity: 'lambda' must be at most 2 with penalty stvs (½‖z‖² + λ·STVS_γ is not convex beyond; the threshold is λγ, so raise 'gamma'), got 3.0"]),
            ("  identity: { solver: identity }\n", "  identity: { solver: mbo, penalty: lasso }\n",
             ["p.yaml:7:37: methods.identity: 'penalty' must be one of l1, stvs, got 'lasso'"]),
            ("drugs: [cisplatin, ixazomib]", "drugs: [cisplatin, cisplatin]", ["p.yaml:3:20: drug 'cisplatin' is listed twice"]),
            ("drugs: [cisplatin, ixazomib]", "drugs: some", ["p.yaml:3:8: drugs must be 'all' or a non-empty list of drug names"]),
            ("metrics: [sinkhorn_divergence, mean_l2]", "metrics: [sinkhorn_divergence, wasserstein]",
             ["p.yaml:11:44: evaluate.metrics entry must be one of sinkhorn_divergence, mmd, mean_l2, map_mse, l2_uvp, got 'wasserstein'"]),
            ("sinkhorn_epsilon: auto }", "sinkhorn_epsilon: auto, moved_threshold: -1 }",
             ["p.yaml:11:95: evaluate.moved_threshold must be > 0, got -1.0"]),
            ("formats: [markdown, csv]", "formats: [markdown, pdf]",
             ["p.yaml:12:50: report.formats entry must be one of markdown, csv, svg, html, got 'pdf'"]),
            ("  identity: { solver: identity }\n", "  identity: { steps: 3 }\n",
             ["p.yaml:7:13: methods.identity has no 'solver' (expected one of identity, mean_shift, eot, untuned, debiased, progot, mbo, icnn, monge_gap, egnot, sparse_icnn)"]),
            ("features: X }", "features: X_pca, var_names: features.txt }",
             ["p.yaml:2:93: data.var_names selects columns of X; it cannot be used with features: X_pca"]),
            ("data: { path: demo.h5ad,", "data: { path: [demo.h5ad],",
             ["p.yaml:2:15: data.path must be a non-empty text value"]),
            ("pca: { components: [16, 32] }", "pca: { components: [16, 32]", ["p.yaml:5:1: YAML syntax error: while parsing a flow mapping, did not find expected ',' or '}'"]),
            ("drugs: [cisplatin, ixazomib]\n", "drugs: [cisplatin, ixazomib]\ndrugs: [cisplatin]\n",
             ["p.yaml:3:1: duplicate key 'drugs' in one mapping (each key may appear once; the first is here)"]),
        ]
        XCTAssertGreaterThanOrEqual(cases.count, 10)
        for (old, new, expected) in cases {
            XCTAssertEqual(lines(replacing: old, with: new), expected, new)
        }
    }

    func testSeveralProblemsAreAllReported() {
        let text = valid.replacingOccurrences(of: "steps: 8", with: "steps: -2")
            .replacingOccurrences(of: "test_fraction: 0.2", with: "test_fraction: 0")
        XCTAssertThrowsError(try SpecParser.parse(text, file: "p.yaml")) { error in
            XCTAssertEqual((error as? PipelineSpecError)?.lines.count, 2, "\(error)")
        }
    }

    func testDataChecksNameTheMissingLabelsAndFeatures() throws {
        let spec = try SpecParser.parse("""
            name: check
            data: { path: x.h5ad, condition_key: drug, control: DMSO, features: X_umap }
            drugs: [cisplatin, sorafenib, control]
            pca: { components: 4 }
            split: { test_fraction: 0.2, seeds: [0] }
            methods: { id: { solver: identity } }
            """, file: "check.yaml")
        let summary = try AnnDataSummary.read(TestPaths.fixture("categorical_missing"))
        let messages = DataCheck.issues(spec, against: summary).map(\.description)
        XCTAssertEqual(messages, [
            "2:53: data.control: no cells labelled 'DMSO' in obs 'drug' (labels: control, cisplatin, ixazomib, melphalan)",
            "3:20: drugs: no cells labelled 'sorafenib' in obs 'drug' (labels: control, cisplatin, ixazomib, melphalan)",
            "2:69: data.features: 'X_umap' is neither X nor an obsm entry (obsm has: nothing)",
        ])
    }

    func testEveryRegisteredSolverBuildsFromItsParameters() throws {
        for type in MethodCatalog.configurations {
            XCTAssertFalse(type.summary.isEmpty)
            _ = try XCTUnwrap(MethodCatalog.configure(type, []).method).estimator()
        }
        let progot = MethodCatalog.configuration(named: "progot")
        XCTAssertNotNil(progot)
        let mbo = try XCTUnwrap(MethodCatalog.configure(MBOMethod.self, [("penalty", .text("stvs")), ("lambda", .number(0.5)), ("gamma", .integer(3))])
            .method?.estimator() as? MBOEstimator)
        XCTAssertEqual(mbo.cost, .elasticSTVS(lambda: 0.5, gamma: 3))
        XCTAssertEqual(mbo.epsilon, .tuned(EpsilonTuning()))
    }

    func testASolverRevisionChangesOnlyItsOwnSolveKeys() throws {
        let spec = try SpecParser.parse(valid.replacingOccurrences(
            of: "  identity: { solver: identity }", with: "  identity: { solver: identity }\n  gap: { solver: monge_gap, iterations: 5 }"),
            file: "demo.yaml")
        let plan = try Plan.make(spec, dataDigest: "digest", availableLabels: ["control", "cisplatin", "ixazomib"])
        let solves = plan.tasks.filter { $0.stage == .solve }
        XCTAssertEqual(MongeGapMethod.revision, 1)
        for task in solves {
            XCTAssertEqual(task.parameters.contains("solver_revision"), task.coordinates.method == "gap", task.id)
        }
        // Without a revision the parameters are those of plans made before revisions existed.
        let eot = try XCTUnwrap(solves.first { $0.coordinates.method == "identity" })
        XCTAssertEqual(eot.parameters, #"{"method":"identity","parameters":{},"solver":"identity"}"#)
    }

    /// A method's keys follow its configuration, and only its own: editing one method's
    /// parameters re-keys only that method's solve and evaluate tasks, and writing a default out
    /// changes nothing.
    func testChangingOneMethodChangesOnlyItsOwnTaskKeys() throws {
        func plan(_ text: String) throws -> Plan {
            try Plan.make(SpecParser.parse(text, file: "demo.yaml"), dataDigest: "digest", availableLabels: ["control", "cisplatin", "ixazomib"])
        }
        let base = try plan(valid)
        let edited = try plan(valid.replacingOccurrences(of: "steps: 8", with: "steps: 6"))
        XCTAssertEqual(base.tasks.map(\.id), edited.tasks.map(\.id))
        var changed = 0
        for (before, after) in zip(base.tasks, edited.tasks) {
            XCTAssertEqual(before.key == after.key, before.coordinates.method != "progot", before.id)
            if before.key != after.key {
                changed += 1
                XCTAssertTrue([.solve, .evaluate].contains(before.stage), before.id)
            }
        }
        XCTAssertEqual(changed, 2 * 2 * 2 * 2, "drugs × sizes × seeds × (solve, evaluate)")
        let explicitDefaults = try plan(valid.replacingOccurrences(of: "eot: { solver: eot, epsilon: tuned }",
                                                                   with: "eot: { solver: eot, held_out_fraction: 0.1, max_iterations: 2000 }"))
        XCTAssertEqual(base.tasks.map(\.key), explicitDefaults.tasks.map(\.key))
    }

    /// Every method's configuration, with each parameter written out in a pipeline file, reads
    /// back to the same configuration and so to the same solve key as the method with none.
    func testEveryMethodRoundTripsFromYAMLToItsKey() throws {
        func yaml(_ value: ParameterValue) -> String {
            switch value {
            case .text(let text): return "\"\(text)\""
            case .mapping(let entries):
                return "{" + entries.sorted { $0.key < $1.key }.map { "\($0.key): \(yaml($0.value))" }.joined(separator: ", ") + "}"
            default: return value.description
            }
        }
        func solveKeys(_ methods: String) throws -> [String] {
            let text = valid.replacingOccurrences(of: valid[valid.range(of: "methods:\n")!.upperBound..<valid.range(of: "evaluate:")!.lowerBound],
                                                  with: "  m: \(methods)\n")
            let spec = try SpecParser.parse(text, file: "demo.yaml")
            let plan = try Plan.make(spec, dataDigest: "digest", availableLabels: ["control", "cisplatin", "ixazomib"])
            return plan.tasks.filter { $0.stage == .solve }.map(\.key)
        }
        for type in MethodCatalog.configurations {
            let method = try XCTUnwrap(MethodCatalog.configure(type, []).method)
            let written = method.parameterValues.map { "\($0.name): \(yaml($0.value))" }
            let explicit = try solveKeys("{ " + (["solver: \(type.name)"] + written).joined(separator: ", ") + " }")
            XCTAssertEqual(explicit, try solveKeys("{ solver: \(type.name) }"), type.name)
            let spec = try SpecParser.parse(valid.replacingOccurrences(of: "  identity: { solver: identity }",
                                                                       with: "  identity: { solver: \(type.name) }"), file: "demo.yaml")
            XCTAssertEqual(spec.methods[0].method, method, type.name)
        }
    }

    func testAnOutOfDistributionSplitNeedsNoTestFraction() throws {
        let spec = try SpecParser.parse(valid.replacingOccurrences(
            of: "split: { test_fraction: 0.2, seeds: [0, 1] }",
            with: "split: { seeds: [0], holdout: { key: cell_state, values: [state3] } }"), file: "p.yaml")
        XCTAssertEqual(spec.split.holdout?.key.value, "cell_state")
        XCTAssertEqual(spec.split.holdout?.values.map(\.value), ["state3"])
        let plan = try Plan.make(spec, dataDigest: "digest", availableLabels: ["control", "cisplatin", "ixazomib"])
        XCTAssertTrue(try XCTUnwrap(plan.task("load")).parameters.contains(#""holdout_key":"cell_state""#))
        XCTAssertTrue(try XCTUnwrap(plan.task("split/cisplatin/seed0")).parameters.contains(#""holdout_values":["state3"]"#))
        XCTAssertThrowsError(try SpecParser.parse(valid.replacingOccurrences(
            of: "split: { test_fraction: 0.2, seeds: [0, 1] }", with: "split: { seeds: [0] }"), file: "p.yaml")) { error in
            XCTAssertTrue("\(error)".contains("split needs test_fraction"), "\(error)")
        }
        // Without holdout the load and split keys are those of before.
        let plain = try Plan.make(SpecParser.parse(valid, file: "p.yaml"), dataDigest: "digest", availableLabels: ["control", "cisplatin", "ixazomib"])
        XCTAssertFalse(try XCTUnwrap(plain.task("load")).parameters.contains("holdout"))
    }

    func testGeneSpaceSectionPlansOneScoreTaskPerMethodAndSeedAndLeavesTheOtherKeys() throws {
        let both = valid.replacingOccurrences(of: "sinkhorn_epsilon: auto }", with: "sinkhorn_epsilon: auto, space: both }")
        let labels = ["control", "cisplatin", "ixazomib"]
        let spec = try SpecParser.parse(both, file: "p.yaml")
        XCTAssertEqual(spec.geneMetrics, GeneScore.defaults)
        XCTAssertEqual(spec.geneDecode, .displacement)
        let plan = try Plan.make(spec, dataDigest: "digest", availableLabels: labels)
        let plain = try Plan.make(SpecParser.parse(valid, file: "p.yaml"), dataDigest: "digest", availableLabels: labels)
        let scores = plan.tasks.filter { $0.stage == .geneScore }
        XCTAssertEqual(scores.count, 2 * 2 * 4, "d × seeds × methods")
        let first = try XCTUnwrap(plan.task("gene_score/d16/seed0/progot"))
        XCTAssertEqual(first.inputs(.solve), ["solve/cisplatin/d16/seed0/progot", "solve/ixazomib/d16/seed0/progot"])
        XCTAssertEqual(first.inputs(.split), ["split/cisplatin/seed0", "split/ixazomib/seed0"])
        XCTAssertEqual(first.input(.points), "pca/d16")
        // Scoring in gene space too adds tasks and changes none of the others.
        let keys = Dictionary(uniqueKeysWithValues: plain.tasks.map { ($0.id, $0.key) })
        for task in plan.tasks where task.stage != .geneScore { XCTAssertEqual(keys[task.id], task.key, task.id) }

        let genesOnly = try SpecParser.parse(valid.replacingOccurrences(
            of: "evaluate: { metrics: [sinkhorn_divergence, mean_l2], sinkhorn_epsilon: auto }",
            with: "evaluate: { space: genes, gene_metrics: [pearson_delta, overlap_at_N], decode: reconstruction }"), file: "p.yaml")
        XCTAssertEqual(genesOnly.evaluate.metrics, [])
        XCTAssertEqual(genesOnly.geneMetrics, ["pearson_delta", "overlap_at_N"])
        XCTAssertEqual(genesOnly.geneDecode, .reconstruction)
        let genesPlan = try Plan.make(genesOnly, dataDigest: "digest", availableLabels: labels)
        XCTAssertFalse(genesPlan.tasks.contains { $0.stage == .ceiling }, "no metric in PCA space, no ceiling")
    }

    func testGeneSpaceMistakesAreNamed() {
        let evaluate = "evaluate: { metrics: [sinkhorn_divergence, mean_l2], sinkhorn_epsilon: auto }"
        let cases: [(String, String)] = [
            ("evaluate: { gene_metrics: [pearson_delta] }", "evaluate.gene_metrics are scored in gene space; it needs evaluate.space: genes or both"),
            ("evaluate: { space: both, gene_metrics: [pearson] }", "evaluate.gene_metrics: unknown metric 'pearson'"),
            ("evaluate: { space: both, gene_metrics: [program_recall] }", "program_recall needs data.true_programs"),
            ("evaluate: { space: genes, metrics: [mmd] }", "with space: genes list gene_metrics, or use space: both"),
            ("evaluate: { space: everywhere }", "evaluate.space must be one of pca, genes, both, got 'everywhere'"),
            ("evaluate: { decode: displacement }", "evaluate.decode says how predictions reach gene space; it needs evaluate.space: genes or both"),
        ]
        for (replacement, expected) in cases {
            XCTAssertThrowsError(try SpecParser.parse(valid.replacingOccurrences(of: evaluate, with: replacement), file: "p.yaml"),
                                 replacement) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(replacement): \(error)")
            }
        }
        // With true programs, the defaults add the recall, which the gene_score tasks read.
        let withPrograms = valid.replacingOccurrences(of: "features: X }", with: "features: X, true_programs: truth/programs }")
            .replacingOccurrences(of: evaluate, with: "evaluate: { space: genes }")
        XCTAssertEqual(try SpecParser.parse(withPrograms, file: "p.yaml").geneMetrics, GeneScore.defaults + [GeneScore.programRecall])
        let plan = try? Plan.make(SpecParser.parse(withPrograms, file: "p.yaml"), dataDigest: "d", availableLabels: ["control", "cisplatin", "ixazomib"])
        XCTAssertEqual(plan?.task("gene_score/d16/seed0/progot")?.parameters.contains(#""truePrograms":"truth/programs""#), true)
        XCTAssertEqual(plan?.task("load")?.parameters.contains("programs"), false, "the load task does not change")
    }
}
