import Foundation
import Methods
import NeuralTransport
import TestSupport
import Transport
import XCTest

final class MethodCatalogTests: XCTestCase {
    func testEveryMethodIsListedOnceWithItsParameters() {
        let names = MethodCatalog.names
        XCTAssertEqual(names, ["identity", "mean_shift", "eot", "untuned", "debiased", "progot", "mbo", "icnn", "monge_gap",
                               "egnot", "sparse_icnn"])
        XCTAssertEqual(Set(names).count, names.count)
        for description in MethodCatalog.descriptions {
            XCTAssertFalse(description.summary.isEmpty, description.name)
            XCTAssertEqual(Set(description.parameters.map(\.name)).count, description.parameters.count, description.name)
            for parameter in description.parameters {
                XCTAssertFalse(parameter.help.isEmpty, "\(description.name).\(parameter.name)")
                XCTAssertFalse(parameter.default.isEmpty, "\(description.name).\(parameter.name)")
            }
        }
    }

    /// Each configuration, with every parameter written out as a pipeline file would write it,
    /// configures back to itself; its JSON (what the cache key hashes) decodes to the same
    /// method and encodes to the same text.
    func testEveryConfigurationRoundTripsThroughItsParametersAndJSON() throws {
        for type in MethodCatalog.configurations {
            let (defaults, problems) = MethodCatalog.configure(type, [])
            XCTAssertTrue(problems.isEmpty, type.name)
            let method = try XCTUnwrap(defaults, type.name)
            let written = method.parameterValues.map { (key: $0.name, value: $0.value) }
            let (again, againProblems) = MethodCatalog.configure(type, written)
            XCTAssertTrue(againProblems.isEmpty, "\(type.name): \(againProblems)")
            XCTAssertEqual(again, method, type.name)
            let data = try JSONEncoder().encode(method)
            let decoded = try JSONDecoder().decode(ConfiguredMethod.self, from: data)
            XCTAssertEqual(decoded, method, type.name)
            XCTAssertEqual(try decoded.canonicalJSON(), try method.canonicalJSON(), type.name)
            _ = method.estimator()
        }
    }

    func testAChangedParameterChangesTheConfigurationAndTheEstimator() throws {
        let (progot, _) = MethodCatalog.configure(ProgOTMethod.self, [("steps", .integer(8)), ("alpha", .text("lin"))])
        let estimator = try XCTUnwrap(progot?.estimator() as? ProgOTEstimator)
        XCTAssertEqual(estimator.steps, 8)
        XCTAssertEqual(estimator.alpha, .lin)
        XCTAssertNotEqual(try progot?.canonicalJSON(), try MethodCatalog.configure(ProgOTMethod.self, []).method?.canonicalJSON())

        let (mbo, _) = MethodCatalog.configure(MBOMethod.self, [("penalty", .text("stvs")), ("lambda", .number(0.5)), ("gamma", .integer(3))])
        let fitted = try XCTUnwrap(mbo?.estimator() as? MBOEstimator)
        XCTAssertEqual(fitted.cost, .elasticSTVS(lambda: 0.5, gamma: 3))
        XCTAssertEqual(fitted.epsilon, .tuned(EpsilonTuning()))
    }

    /// ε has one meaning per word: `auto` is OTT's default, `tuned` the search, a number itself.
    func testEpsilonWordsMeanTheSameForEveryMethod() throws {
        func entropic(_ type: any MethodConfiguration.Type, _ epsilon: ParameterValue?) throws -> EntropicEpsilon? {
            let (method, problems) = MethodCatalog.configure(type, epsilon.map { [("epsilon", $0)] } ?? [])
            XCTAssertTrue(problems.isEmpty, "\(type.name) \(String(describing: epsilon)): \(problems)")
            switch method?.estimator() {
            case let estimator as EntropicMapEstimator: return estimator.epsilon
            case let estimator as MBOEstimator: return estimator.epsilon
            default: return nil
            }
        }
        for type in [EOTMethod.self, MBOMethod.self] as [any MethodConfiguration.Type] {
            XCTAssertEqual(try entropic(type, nil), .tuned(EpsilonTuning()), type.name)
            XCTAssertEqual(try entropic(type, .text("tuned")), .tuned(EpsilonTuning()), type.name)
            XCTAssertEqual(try entropic(type, .text("auto")), .choice(.auto), type.name)
            XCTAssertEqual(try entropic(type, .number(0.5)), .choice(.fixed(0.5)), type.name)
        }
        XCTAssertEqual(try entropic(UntunedMethod.self, nil), .choice(.auto))
        // eot at auto is untuned.
        XCTAssertEqual(MethodCatalog.configure(EOTMethod.self, [("epsilon", .text("auto"))]).method?.estimator() as? EntropicMapEstimator,
                       MethodCatalog.configure(UntunedMethod.self, []).method?.estimator() as? EntropicMapEstimator)
        // A word a method does not take is refused, naming the words it does.
        let (_, problems) = MethodCatalog.configure(DebiasedMethod.self, [("epsilon", .text("tuned"))])
        XCTAssertEqual(problems.first?.problem, .invalidValue(key: "epsilon", message: "'epsilon' must be auto or a number > 0, got 'tuned'"))
    }

    /// Costs and accelerators are parameters like any other.
    func testCostAndSinkhornAcceleratorsAreParameters() throws {
        let (eot, problems) = MethodCatalog.configure(EOTMethod.self, [
            ("cost", .mapping(["name": .text("elastic_l1"), "lambda": .integer(2)])), ("momentum", .text("adaptive:20")),
            ("epsilon_init", .integer(10)), ("epsilon_decay", .number(0.9)), ("anderson", .integer(3)), ("mode", .text("online")),
        ])
        XCTAssertTrue(problems.isEmpty, "\(problems)")
        let estimator = try XCTUnwrap(eot?.estimator() as? EntropicMapEstimator)
        XCTAssertEqual(estimator.cost, .elasticL1(lambda: 2))
        XCTAssertEqual(estimator.sinkhorn.momentum, .adaptive(start: 20))
        XCTAssertEqual(estimator.sinkhorn.epsilonScaling, SinkhornEpsilonScaling(initialMultiplier: 10, decay: 0.9))
        XCTAssertEqual(estimator.sinkhorn.anderson, SinkhornAnderson(memory: 3))
        XCTAssertEqual(estimator.sinkhorn.mode, .online)

        let (progot, _) = MethodCatalog.configure(ProgOTMethod.self, [("cost", .mapping(["name": .text("pnorm"), "p": .number(1.5)]))])
        XCTAssertEqual((progot?.estimator() as? ProgOTEstimator)?.cost, .pNorm(1.5))

        for (type, assignments, message) in [
            (EOTMethod.self, [("cost", ParameterValue.text("manhattan"))], "'cost': unknown cost 'manhattan'"),
            (EOTMethod.self, [("cost", .mapping(["name": .text("elastic_stvs"), "lambda": .integer(3)]))], "'cost': the elastic_stvs cost needs 0 ≤ λ ≤ 2"),
            (EOTMethod.self, [("cost", .mapping(["name": .text("pnorm"), "q": .integer(3)]))], "'cost': unknown key 'q'"),
            (EOTMethod.self, [("momentum", .integer(2))], "'momentum': Sinkhorn momentum must be in (0, 2)"),
            (EOTMethod.self, [("epsilon_init", .integer(10))], "'epsilon_init' and 'epsilon_decay' go together"),
            (ProgOTMethod.self, [("debiased", .flag(true)), ("cost", .text("pnorm"))], "'debiased' steps need cost sqeuclidean"),
        ] as [(any MethodConfiguration.Type, [(String, ParameterValue)], String)] {
            let (method, problems) = MethodCatalog.configure(type, assignments.map { (key: $0.0, value: $0.1) })
            XCTAssertNil(method)
            let text: String
            switch problems.first?.problem {
            case .invalidValue(_, let message)?, .combination(let message)?: text = message
            default: text = "\(problems)"
            }
            XCTAssertTrue(text.hasPrefix(message), "\(text) does not start with \(message)")
        }
        // debiased takes no cost; unknown parameters name the known ones.
        let (_, unknown) = MethodCatalog.configure(DebiasedMethod.self, [("cost", .text("pnorm"))])
        guard case .unknownParameter("cost", let known)? = unknown.first?.problem else { return XCTFail("\(unknown)") }
        XCTAssertEqual(known.first, "epsilon")
    }

    /// sparse_icnn's adjusting and smoothing phases default to a tenth of the initial one,
    /// wherever the method is configured (`iterations` is its other name for `init_iterations`).
    func testSparseICNNDerivesItsPhaseLengthsInOnePlace() throws {
        let (method, problems) = MethodCatalog.configure(SparseICNNMethod.self, [("iterations", .integer(300))])
        XCTAssertTrue(problems.isEmpty)
        let estimator = try XCTUnwrap(method?.estimator() as? SparseICNNEstimator)
        XCTAssertEqual([estimator.initIterations, estimator.adjustIterations, estimator.smoothIterations], [300, 30, 30])
        let defaults = try XCTUnwrap(MethodCatalog.configure(SparseICNNMethod.self, []).method?.estimator() as? SparseICNNEstimator)
        XCTAssertEqual(defaults, SparseICNNEstimator(), "the catalog's defaults are the estimator's")
    }

    /// docs/methods.md is `perturbot methods --markdown`; regenerate it when this fails.
    func testTheMethodsDocumentIsCurrent() throws {
        let url = TestPaths.repository.appendingPathComponent("docs/methods.md")
        let committed = try String(contentsOf: url, encoding: .utf8)
        XCTAssertEqual(committed, MethodCatalog.markdown(),
                       "docs/methods.md is stale: run `swift run perturbot methods --markdown > docs/methods.md`")
    }
}
