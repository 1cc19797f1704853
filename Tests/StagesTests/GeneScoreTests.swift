import AnnData
import Foundation
import LinearAlgebra
@testable import Stages
import Transport
import XCTest

/// The gene_score stage against its definition: the pseudobulk changes of the decoded
/// predictions recomputed by hand, for each way of decoding; the true programs' recall; and its
/// refusals.
final class GeneScoreTests: XCTestCase {
    private let genes = (0..<10).map { "g\($0)" }
    private let drugs = ["a", "b"]

    /// 40 control cells and 12 of each drug, log1p-like values (fractional, ≥ 0).
    private func data() -> LoadedData {
        var rng = SeededRNG(seed: 7)
        let conditions = [String](repeating: "control", count: 40) + drugs.flatMap { [String](repeating: $0, count: 12) }
        let features = Matrix<Float>(rows: conditions.count, cols: genes.count) { i, j in
            let effect: Float = conditions[i] == "a" && j < 3 ? 1.5 : conditions[i] == "b" && j >= 7 ? 0.8 : 0
            return rng.uniformFloat() * 2 + effect + 0.01
        }
        return LoadedData(features: features, conditions: conditions, featureNames: genes, trueMap: nil)
    }

    private func splits(_ data: LoadedData) throws -> [DrugSplit] {
        try drugs.map { try DrugSplit.make(drug: $0, control: data.cells(labelled: "control"), treated: data.cells(labelled: $0),
                                           testFraction: 0.5, seed: 3) }
    }

    private func mean(_ matrix: Matrix<Float>, rows: [Int]) -> [Double] {
        (0..<matrix.cols).map { j in rows.reduce(0.0) { $0 + Double(matrix[$1, j]) } / Double(rows.count) }
    }

    private func mseDelta(_ predicted: [Double], _ real: [Double]) -> Double {
        zip(predicted, real).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(real.count)
    }

    func testDecodedPredictionsGiveTheHandComputedChanges() throws {
        let data = data(), splits = try splits(data)
        let model = try PCAModel.fit(data.features, components: 3)
        let space = FeatureSpace(points: try model.transform(data.features), components: model.components,
                                 featureNames: genes, trueMap: nil)
        let shifts: [String: [Float]] = ["a": [0.5, -0.2, 0.1], "b": [-0.3, 0.4, 0]]
        let fits = zip(drugs, splits).map { GeneScore.Fit(drug: $0, split: $1, map: MeanShiftMap(shift: shifts[$0] ?? [])) }
        let (moved, reference) = try GeneScore.controlHalves(splits[0])
        XCTAssertEqual(Set(moved + reference), Set(splits[0].testControl))
        XCTAssertTrue(Set(moved).isDisjoint(with: reference))
        for decode in GeneScore.Decode.allCases {
            let record = try GeneScore.run(.init(metrics: ["mse_delta"], control: "control", drugs: drugs, decode: decode),
                                           method: "shift", data: data, space: space, model: model, fits: fits, seed: 3)
            for (drug, split) in zip(drugs, splits) {
                let shift = (0..<genes.count).map { j in (0..<3).reduce(0.0) { $0 + Double(shifts[drug]![$1]) * model.components[$1, j] } }
                let realDelta = zip(mean(data.features, rows: split.testTreated), mean(data.features, rows: reference)).map { $0 - $1 }
                let predictedDelta: [Double]
                switch decode {
                case .displacement:
                    // x + δ·V against the reference half as loaded.
                    predictedDelta = (0..<genes.count).map { j in
                        mean(data.features, rows: moved)[j] + shift[j] - mean(data.features, rows: reference)[j]
                    }
                case .reconstruction:
                    // (mean score of the moved half + δ − mean score of the reference half)·V.
                    let scores = space.points
                    predictedDelta = (0..<genes.count).map { j in
                        (0..<3).reduce(0.0) { sum, k in
                            sum + (mean(scores, rows: moved)[k] + Double(shifts[drug]![k]) - mean(scores, rows: reference)[k]) * model.components[k, j]
                        }
                    }
                }
                let value = try XCTUnwrap(record.metrics[drug]?["mse_delta"] ?? nil)
                XCTAssertEqual(value, mseDelta(predictedDelta, realDelta), accuracy: 1e-5 * max(1, value), "\(decode) \(drug)")
            }
        }
        // Without PCA the prediction is T(x) itself.
        let features = FeatureSpace(data)
        let plainFits = zip(drugs, splits).map { GeneScore.Fit(drug: $0, split: $1, map: MeanShiftMap(shift: [Float](repeating: 0.25, count: 10))) }
        let plain = try GeneScore.run(.init(metrics: ["mse_delta"], control: "control", drugs: drugs), method: "shift", data: data,
                                      space: features, model: nil, fits: plainFits, seed: 3)
        let realDelta = zip(mean(data.features, rows: splits[1].testTreated), mean(data.features, rows: reference)).map { $0 - $1 }
        let predictedDelta = zip(mean(data.features, rows: moved), mean(data.features, rows: reference)).map { $0 + 0.25 - $1 }
        XCTAssertEqual(try XCTUnwrap(plain.metrics["b"]?["mse_delta"] ?? nil), mseDelta(predictedDelta, realDelta), accuracy: 1e-5)
    }

    func testProgramRecallCountsGenesFoundInTheirDirection() throws {
        let program = TrueProgram(up: ["a", "b"], down: ["c"])
        XCTAssertEqual(program.recall(significant: ["a": 1, "b": -1, "c": -1, "d": 1]), 2.0 / 3)
        XCTAssertEqual(program.recall(significant: [:]), 0)
        XCTAssertNil(TrueProgram(up: [], down: []).recall(significant: ["a": 1]))
        let uns: [String: UnsValue] = ["truth": .dictionary(["programs": .dictionary([
            "a": .dictionary(["up": .string("g0,g1"), "down": .string("g9")]),
        ])])]
        XCTAssertEqual(try TrueProgram.read(uns: uns, path: "truth/programs", file: "x.h5ad", varNames: genes)["a"],
                       TrueProgram(up: ["g0", "g1"], down: ["g9"]))
        XCTAssertThrowsError(try TrueProgram.read(uns: uns, path: "truth/missing", file: "x.h5ad", varNames: genes)) {
            XCTAssertEqual("\($0)", "x.h5ad: data.true_programs: uns/truth has no entry 'missing'")
        }
        XCTAssertThrowsError(try TrueProgram.read(uns: uns, path: "truth/programs", file: "x.h5ad", varNames: ["g0"])) {
            XCTAssertTrue("\($0)".contains("uns/truth/programs/a/up names genes that are not loaded features: g1"), "\($0)")
        }
    }

    func testRefusals() throws {
        let data = data(), splits = try splits(data)
        let fits = zip(drugs, splits).map { GeneScore.Fit(drug: $0, split: $1, map: IdentityMap<Float>(dimension: 10)) }
        let negative = LoadedData(features: Matrix(rows: data.features.rows, cols: 10) { i, j in data.features[i, j] - 1 },
                                  conditions: data.conditions, featureNames: genes, trueMap: nil)
        XCTAssertThrowsError(try GeneScore.run(.init(metrics: ["overlap_at_N"], control: "control", drugs: drugs), method: "identity",
                                               data: negative, space: FeatureSpace(negative), model: nil, fits: fits, seed: 3)) {
            XCTAssertTrue("\($0)".hasPrefix("gene-space DE metrics need log1p expression"), "\($0)")
        }
        XCTAssertThrowsError(try GeneScore.run(.init(metrics: [GeneScore.programRecall], control: "control", drugs: drugs),
                                               method: "identity", data: data, space: FeatureSpace(data), model: nil, fits: fits, seed: 3)) {
            XCTAssertTrue("\($0)".contains("program_recall needs data.true_programs"), "\($0)")
        }
    }
}
