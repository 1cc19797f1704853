import AnnData
import Datasets
import Foundation
import LinearAlgebra
import Stages
import TestSupport
import XCTest

final class PCATests: XCTestCase {
    /// Points on a known ellipsoid: x = z·diag(s)·Qᵀ + μ with a random rotation Q.
    private func ellipsoid(n: Int, scales: [Double], seed: UInt64) throws -> (Matrix<Float>, Matrix<Double>) {
        var rng = SeededRNG(seed: seed)
        let d = scales.count
        let gaussian: Matrix<Double> = rng.normalMatrix(rows: d, cols: d)
        let q = try gaussian.thinSVD().u  // orthonormal d × d
        let z: Matrix<Double> = rng.normalMatrix(rows: n, cols: d)
        let scaled = Matrix(rows: n, cols: d) { i, j in z[i, j] * scales[j] }
        let x = scaled.multiplied(by: q, transposeOther: true)
        return (Matrix(rows: n, cols: d) { i, j in Float(x[i, j] + Double(j)) }, q)
    }

    func testComponentsAreOrthonormalOrderedAndMatchTheCovariance() throws {
        let (x, rotation) = try ellipsoid(n: 4000, scales: [5, 3, 1, 0.5, 0.2], seed: 1)
        let model = try PCAModel.fit(x, components: 3)
        let gram = model.components.multiplied(by: model.components, transposeOther: true)
        XCTAssertLessThan(gram.maxAbsDifference(Matrix<Double>.identity(3)), 1e-10)
        XCTAssertEqual(model.explainedVariance, model.explainedVariance.sorted(by: >))
        // The leading axes are the rotation's first columns (up to sign), variances near s².
        for k in 0..<3 {
            let alignment = (0..<5).reduce(0.0) { $0 + model.components[k, $1] * rotation[$1, k] }
            XCTAssertGreaterThan(abs(alignment), 0.99, "component \(k)")
        }
        XCTAssertEqual(model.explainedVariance[0], 25, accuracy: 25 * 0.08)
        XCTAssertEqual(model.mean[4], 4, accuracy: 0.1)
        // Largest loading of each component is positive.
        for k in 0..<3 {
            let row = (0..<5).map { model.components[k, $0] }
            XCTAssertGreaterThan(row.max { abs($0) < abs($1) } ?? 0, 0)
        }
    }

    func testAllComponentsReconstructTheData() throws {
        let (x, _) = try ellipsoid(n: 200, scales: [2, 1, 0.5], seed: 2)
        let model = try PCAModel.fit(x, components: 3)
        let back = try model.inverseTransform(try model.transform(x))
        XCTAssertLessThan(back.converted(to: Double.self).maxAbsDifference(x.converted(to: Double.self)), 1e-4)
        XCTAssertEqual(model.explainedVarianceRatio.reduce(0, +), 1, accuracy: 1e-12)
    }

    func testScoresHaveTheComponentVariances() throws {
        let (x, _) = try ellipsoid(n: 500, scales: [3, 1, 0.3], seed: 3)
        let model = try PCAModel.fit(x, components: 2)
        let scores = try model.transform(x).converted(to: Double.self)
        for k in 0..<2 {
            let column = scores.column(k)
            let mean = column.reduce(0, +) / Double(column.count)
            XCTAssertEqual(mean, 0, accuracy: 1e-4)
            let variance = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(column.count - 1)
            XCTAssertEqual(variance, model.explainedVariance[k], accuracy: 1e-4 * model.explainedVariance[k])
        }
    }

    func testBadRequestsAreErrors() throws {
        let x = Matrix<Float>(rows: 10, cols: 3) { i, j in Float(i * j) }
        XCTAssertThrowsError(try PCAModel.fit(x, components: 4)) { error in
            XCTAssertEqual("\(error)", "PCA: 4 components requested but the features have 3 dimensions")
        }
        XCTAssertThrowsError(try PCAModel.fit(Matrix<Float>(rows: 1, cols: 3), components: 1))
        XCTAssertThrowsError(try PCAModel.fit(x, components: 2).transform(Matrix<Float>(rows: 2, cols: 4)))
    }
}

final class SplitTests: XCTestCase {
    func testPartsAreDisjointSizedAndSeeded() throws {
        let control = Array(0..<50), treated = Array(100..<131)
        let split = try DrugSplit.make(drug: "d", control: control, treated: treated, testFraction: 0.2, seed: 7)
        XCTAssertEqual(split.testControl.count, 10)
        XCTAssertEqual(split.testTreated.count, 6)  // round(6.2)
        XCTAssertEqual(Set(split.trainControl + split.testControl), Set(control))
        XCTAssertTrue(Set(split.trainControl).isDisjoint(with: split.testControl))
        XCTAssertEqual(Set(split.trainTreated + split.testTreated), Set(treated))
        XCTAssertEqual(split, try DrugSplit.make(drug: "d", control: control, treated: treated, testFraction: 0.2, seed: 7))
        XCTAssertNotEqual(split.testControl,
                          try DrugSplit.make(drug: "d", control: control, treated: treated, testFraction: 0.2, seed: 8).testControl)
    }

    func testTinyGroupsKeepOneCellOnEachSide() throws {
        let split = try DrugSplit.make(drug: "d", control: [1, 2], treated: [3, 4, 5], testFraction: 0.9, seed: 0)
        XCTAssertEqual(split.trainControl.count, 1)
        XCTAssertEqual(split.testControl.count, 1)
        XCTAssertEqual(split.trainTreated.count, 1)
        XCTAssertThrowsError(try DrugSplit.make(drug: "d", control: [1], treated: [3, 4], testFraction: 0.5, seed: 0)) { error in
            XCTAssertEqual("\(error)", "split of 'd': needs at least 2 control cells, got 1")
        }
    }
}

final class MetricsTests: XCTestCase {
    func testMMDMatchesTheDirectSumAndVanishesOnItself() {
        var rng = SeededRNG(seed: 4)
        let x: Matrix<Float> = rng.normalMatrix(rows: 30, cols: 3)
        let y = Matrix<Float>(rows: 25, cols: 3) { _, _ in Float(rng.normal() + 0.5) }
        func kernelMean(_ a: Matrix<Float>, _ b: Matrix<Float>, _ gamma: Double) -> Double {
            var total = 0.0
            for i in 0..<a.rows {
                for j in 0..<b.rows {
                    let d2 = (0..<a.cols).reduce(0.0) { $0 + pow(Double(a[i, $1]) - Double(b[j, $1]), 2) }
                    total += exp(-gamma * d2)
                }
            }
            return total / Double(a.rows * b.rows)
        }
        let direct = Metrics.mmdGammas.reduce(0.0) {
            $0 + kernelMean(x, x, $1) + kernelMean(y, y, $1) - 2 * kernelMean(x, y, $1)
        } / Double(Metrics.mmdGammas.count)
        XCTAssertEqual(Metrics.mmd(x, y), direct, accuracy: 1e-9)
        XCTAssertGreaterThan(Metrics.mmd(x, y), 0)
        XCTAssertEqual(Metrics.mmd(x, x), 0, accuracy: 1e-12)
    }

    func testDisplacementDimensionalityCountsMovedFeatures() throws {
        // Two PCA components along features 0 and 2 of 4; control scores spread on both.
        let components = try Matrix<Double>([[1, 0, 0, 0], [0, 0, 1, 0]])
        let control = try Matrix<Float>([[-1, -1], [1, 1], [-1, 1], [1, -1]])
        XCTAssertEqual(Metrics.displacementDimensionality(control: control, predicted: control, components: components), 0)
        let alongFirst = Matrix<Float>(rows: 4, cols: 2) { i, j in control[i, j] + (j == 0 ? 0.5 : 0) }
        XCTAssertEqual(Metrics.displacementDimensionality(control: control, predicted: alongFirst, components: components), 1)
        let tiny = Matrix<Float>(rows: 4, cols: 2) { i, j in control[i, j] + 0.05 }  // below 0.1 × std (= 0.1)
        XCTAssertEqual(Metrics.displacementDimensionality(control: control, predicted: tiny, components: components), 0)
        let both = Matrix<Float>(rows: 4, cols: 2) { i, j in control[i, j] + 0.5 }
        XCTAssertEqual(Metrics.displacementDimensionality(control: control, predicted: both, components: components), 2)
    }

    func testAbsoluteMovedRuleQuantileAndRecovery() throws {
        let identity = Matrix<Double>.identity(3)
        let control = try Matrix<Float>([[0, 0, 0], [1, 1, 1], [2, 2, 2], [3, 3, 3]])
        // Cell i moves feature 0 by 2 and feature 1 by 0.5·i; the true map moves features 0 and 2 by 3.
        let predicted = Matrix<Float>(rows: 4, cols: 3) { i, j in control[i, j] + (j == 0 ? 2 : (j == 1 ? 0.5 * Float(i) : 0)) }
        let truth = Matrix<Float>(rows: 4, cols: 3) { i, j in control[i, j] + (j == 1 ? 0 : 3) }
        let rule = Metrics.MovedRule.absolute(1)
        XCTAssertEqual(Metrics.movedCounts(control: control, predicted: predicted, components: identity, rule: rule), [1, 1, 1, 2],
                       "|Δ| > 1 counts feature 1 only in the last cell (0.5·3 = 1.5)")
        XCTAssertEqual(Metrics.displacementDimensionality(control: control, predicted: predicted, components: identity, rule: rule), 1.25)
        XCTAssertEqual(Metrics.quantile([1, 1, 1, 2], 0.75), 1.25, "NumPy: np.percentile([1, 1, 1, 2], 75) = 1.25")
        XCTAssertEqual(Metrics.quantile([4, 1, 3, 2], 0.75), 3.25)
        XCTAssertNil(Metrics.quantile([], 0.5))
        let recovery = try Metrics.movedFeatureRecovery(control: control, predicted: predicted, truth: truth, rule: rule)
        XCTAssertEqual(recovery.precision, 4.0 / 5.0, "4 of the 5 moves are feature 0, truly moved")
        XCTAssertEqual(recovery.recall, 4.0 / 8.0, "feature 2 moves truly in every cell and never by the map")
        let still = try Metrics.movedFeatureRecovery(control: control, predicted: control, truth: truth, rule: rule)
        XCTAssertNil(still.precision, "a map that moves nothing has no precision")
        XCTAssertEqual(still.recall, 0)
        XCTAssertThrowsError(try Metrics.movedFeatureRecovery(control: control, predicted: predicted, truth: control.rows(at: [0]), rule: rule))
    }

    func testMeanDistanceAndDivergence() throws {
        let x = try Matrix<Float>([[0, 0], [2, 0]]), y = try Matrix<Float>([[3, 4], [3, 4]])
        XCTAssertEqual(Metrics.meanDistance(x, y), (4.0 + 16.0).squareRoot(), accuracy: 1e-12)
        var rng = SeededRNG(seed: 5)
        let cloud: Matrix<Float> = rng.normalMatrix(rows: 40, cols: 2)
        let epsilon = try Metrics.evaluationEpsilon(testTreated: cloud)
        XCTAssertGreaterThan(epsilon, 0)
        XCTAssertEqual(try Metrics.sinkhornDivergence(cloud, cloud, epsilon: epsilon).value, 0, accuracy: 1e-6)
        XCTAssertGreaterThan(try Metrics.sinkhornDivergence(cloud, y, epsilon: epsilon).value, 0)
    }
}

final class LoadTests: XCTestCase {
    func testFeaturesConditionsAndTransforms() throws {
        let path = TestPaths.fixture("categorical_missing")
        let raw = try Load.run(path: path, conditionKey: "drug", features: "X", transform: .none)
        let reference = try AnnDataReader.read(path, as: Float.self, sparse: .densify)
        XCTAssertEqual(raw.features, reference.X?.densified())
        XCTAssertEqual(raw.conditions.count, raw.features.rows)
        XCTAssertEqual(raw.cells(labelled: "control").count, 7)
        XCTAssertEqual(raw.conditions.filter { $0 == nil }.count, 5)
        XCTAssertEqual(raw.featureNames, reference.var.index)
        XCTAssertThrowsError(try Load.run(path: path, conditionKey: "drug", features: "X", transform: .log1p)) { error in
            XCTAssertTrue("\(error)".contains("log1p needs non-negative counts"), "\(error)")
        }
    }

    func testCountTransformsFollowScanpy() throws {
        let path = TestPaths.fixture("dense_int32")  // integer counts
        let raw = try Load.run(path: path, conditionKey: "drug", features: "X", transform: .none)
        let logged = try Load.run(path: path, conditionKey: "drug", features: "X", transform: .log1p)
        let normalised = try Load.run(path: path, conditionKey: "drug", features: "X", transform: .normalizeLog1p(targetSum: 100))
        for i in 0..<raw.features.rows {
            let total = raw.features.row(i).reduce(0, +)
            for j in 0..<raw.features.cols {
                XCTAssertEqual(logged.features[i, j], log1p(raw.features[i, j]), accuracy: 1e-6)
                let scaled = total > 0 ? raw.features[i, j] * 100 / total : raw.features[i, j]
                XCTAssertEqual(normalised.features[i, j], log1p(scaled), accuracy: 1e-5)
            }
        }
    }

    func testVarNamesSelectAndOrderColumns() throws {
        let path = TestPaths.fixture("dense_int32")
        let all = try Load.run(path: path, conditionKey: "drug", features: "X", transform: .none)
        let names = [all.featureNames[5], all.featureNames[1]]
        let picked = try Load.run(path: path, conditionKey: "drug", features: "X", transform: .none, varNames: names)
        XCTAssertEqual(picked.featureNames, names)
        XCTAssertEqual(picked.features.column(0), all.features.column(5))
        XCTAssertEqual(picked.features.column(1), all.features.column(1))
        XCTAssertThrowsError(try Load.run(path: path, conditionKey: "drug", features: "X", transform: .none,
                                          varNames: [names[0], "NoSuchGene"])) { error in
            XCTAssertTrue("\(error)".hasSuffix("var names not in the data: NoSuchGene"), "\(error)")
        }
    }

    /// The load task keeps CSR (and CSC) counts as compressed sparse rows through every transform
    /// and column pick, and they are the values the dense load gives, to the bit.
    func testSparseCountsStayCSRAndEqualTheDenseLoad() throws {
        let folder = try TestPaths.scratchDirectory()
        var data = try ScreenDataset.make(.init(seed: 2, cellLines: 1, drugs: 3, doses: 2, cellsPerCondition: 20,
                                                controlCellsPerLine: 40, genes: 50))
        let sparsePath = folder.appendingPathComponent("csr.h5ad").path, cscPath = folder.appendingPathComponent("csc.h5ad").path
        let densePath = folder.appendingPathComponent("dense.h5ad").path
        guard case .sparse(let csr)? = data.X else { return XCTFail("the screen's X is not sparse") }
        // A quarter of the counts kept (sparse enough to stay CSR), and a first cell with none:
        // its row stays empty, and normalize_log1p leaves it unscaled.
        var values: [Float] = [], columns: [Int32] = [], rows = [0]
        for row in 0..<csr.rows {
            for p in csr.indptr[row]..<csr.indptr[row + 1] where row > 0 && (row + Int(csr.indices[p])) % 4 == 0 {
                values.append(csr.data[p])
                columns.append(csr.indices[p])
            }
            rows.append(values.count)
        }
        let withEmptyRow = try SparseMatrix(format: .csr, rows: csr.rows, cols: csr.cols, data: values, indices: columns, indptr: rows)
        data.X = .sparse(withEmptyRow)
        try AnnDataWriter.write(data, to: sparsePath)
        let dense = withEmptyRow.densified()
        let stored = (0..<dense.cols).map { j in (0..<dense.rows).filter { dense[$0, j] != 0 } }  // per column, its rows
        data.X = .sparse(try SparseMatrix(format: .csc, rows: dense.rows, cols: dense.cols,
                                          data: stored.enumerated().flatMap { j, rows in rows.map { dense[$0, j] } },
                                          indices: stored.flatMap { $0.map(Int32.init) },
                                          indptr: [0] + stored.indices.map { j in stored[...j].reduce(0) { $0 + $1.count } }))
        try AnnDataWriter.write(data, to: cscPath)
        data.X = .dense(dense)
        try AnnDataWriter.write(data, to: densePath)
        let genes = data.var.index
        for (transform, targetSum) in [("none", 0.0), ("log1p", 0.0), ("normalize_log1p", 1e4)] {
            for picked in [[], [genes[7], genes[0], genes[7], genes[49]]] {
                let parameters = Load.Parameters(sha256: "", conditionKey: "drug", features: "X", transform: transform,
                                                 targetSum: targetSum, varNames: picked, trueMap: nil)
                let reference = try Load.read(path: densePath, parameters)
                guard case .dense(let expected) = reference.features else { return XCTFail("dense X loaded as CSR") }
                XCTAssertEqual(expected.rows, dense.rows)
                for path in [sparsePath, cscPath] {
                    let loaded = try Load.read(path: path, parameters)
                    guard case .csr(let kept) = loaded.features else { return XCTFail("\(path) \(transform): counts densified") }
                    XCTAssertEqual(kept.densified(), expected, "\(path) \(transform) \(picked)")
                    XCTAssertEqual(try loaded.features.rows(at: [5, 0, 5]), expected.rows(at: [5, 0, 5]))
                    XCTAssertEqual(loaded.conditions, reference.conditions)
                    XCTAssertEqual(loaded.featureNames, picked.isEmpty ? genes : picked)
                }
            }
        }
        XCTAssertThrowsError(try LoadedFeatures.csr(withEmptyRow).rows(at: [withEmptyRow.rows])) {
            XCTAssertTrue("\($0)".contains("row \(withEmptyRow.rows) asked of a sparse matrix of \(withEmptyRow.rows) rows"), "\($0)")
        }
        // Counts that are mostly non-zero are smaller dense, and kept so.
        let full = try SparseMatrix<Float>(format: .csr, rows: 2, cols: 2, data: [1, 2, 3], indices: [0, 1, 0], indptr: [0, 2, 3])
        guard case .dense(let made) = LoadedFeatures.preferred(full) else { return XCTFail("a 75% full matrix kept as CSR") }
        XCTAssertEqual(made, full.densified())
    }

    func testMissingColumnAndObsmAreNamed() {
        let path = TestPaths.fixture("categorical_missing")
        XCTAssertThrowsError(try Load.run(path: path, conditionKey: "drug", features: "X_umap", transform: .none)) { error in
            XCTAssertTrue("\(error)".contains("no obsm entry 'X_umap'"), "\(error)")
        }
        XCTAssertThrowsError(try Load.run(path: path, conditionKey: "perturbation", features: "X", transform: .none)) { error in
            XCTAssertTrue("\(error)".contains("perturbation"), "\(error)")
        }
    }
}

final class DemoDatasetTests: XCTestCase {
    func testShapeLabelsAndOnlyTheMovedFeaturesShift() throws {
        let data = try DemoDataset.make(.init(seed: 3, controlCells: 400, cellsPerDrug: 300))
        XCTAssertEqual(data.nObs, 1900)
        XCTAssertEqual(data.nVars, 48)
        XCTAssertEqual(Set(data.var.index).count, 48)
        guard case .categorical(let drug)? = data.obs["drug"] else { return XCTFail("no drug column") }
        XCTAssertEqual(drug.categories, ["control"] + DemoDataset.drugs)
        XCTAssertEqual(drug.counts, [400, 300, 300, 300, 300, 300])
        let x = try XCTUnwrap(data.X).densified()
        let law = DemoDataset.Law(seed: 3)
        func mean(of label: Int, feature: Int) -> Double {
            let rows = (0..<x.rows).filter { drug.codes[$0] == Int32(label) }
            return rows.reduce(0.0) { $0 + Double(x[$1, feature]) } / Double(rows.count)
        }
        for index in DemoDataset.drugs.indices {
            let moved = Set(law.movedFeatures[index])
            XCTAssertEqual(moved.count, 6)
            // Every unmoved feature keeps the control mean (up to sampling error).
            for feature in 0..<48 where !moved.contains(feature) {
                XCTAssertEqual(mean(of: index + 1, feature: feature), mean(of: 0, feature: feature), accuracy: 0.35,
                               "\(DemoDataset.drugs[index]) feature \(feature)")
            }
            // The displacement is not a translation: it varies from cell to cell.
            var rng = SeededRNG(seed: 9)
            let shifts = (0..<50).map { _ -> Double in
                let cell = (0..<48).map { _ in 2 + rng.normal() }
                return law.displacement(drug: index, cell: cell)[law.movedFeatures[index][0]]
            }
            XCTAssertGreaterThan((shifts.max() ?? 0) - (shifts.min() ?? 0), 0.1, DemoDataset.drugs[index])
        }
        XCTAssertEqual(try DemoDataset.make(.init(seed: 3, controlCells: 400, cellsPerDrug: 300)), data)
    }
}

final class HoldoutSplitTests: XCTestCase {
    /// An out-of-distribution split: the cells of the held-out groups test, every other cell trains.
    func testHeldOutGroupsAreTheTestCells() throws {
        let groups: [String?] = ["s1", "s2", "s3", "s1", "s3", "s2", nil, "s3"]
        let split = try DrugSplit.make(drug: "d", control: [0, 1, 2, 6], treated: [3, 4, 5, 7], testFraction: 0.5, seed: 0,
                                       holdout: (groups, ["s3"]))
        XCTAssertEqual(split.testControl, [2])
        XCTAssertEqual(split.trainControl, [0, 1, 6])
        XCTAssertEqual(split.testTreated, [4, 7])
        XCTAssertEqual(split.trainTreated, [3, 5])
        XCTAssertThrowsError(try DrugSplit.make(drug: "d", control: [0, 1], treated: [3, 4], testFraction: 0.5, seed: 0,
                                                holdout: (groups, ["s9"]))) { error in
            XCTAssertTrue("\(error)".contains("out-of-distribution split of 'd'"), "\(error)")
        }
    }
}

/// The streaming PCA of a screen: more than `PCAModel.blockRows` cells are fitted and scored a
/// block of rows at a time, and give the in-memory PCA's axes, variances and scores.
final class BlockwisePCATests: XCTestCase {
    func testBlockwiseFitAndTransformMatchTheInMemoryPCA() throws {
        let n = PCAModel.blockRows + 14_465, d = 6
        var rng = SeededRNG(seed: 11)
        // Correlated columns with distinct variances, and a mean far from 0.
        let data = Matrix<Float>(rows: n, cols: d) { _, _ in Float(rng.normal()) }
        let mixing = Matrix<Float>(rows: d, cols: d) { i, j in i == j ? Float(d - i) : Float(0.3 * Double(i + j) / Double(d)) }
        var mixed = data.multiplied(by: mixing)
        mixed.addToEachRow([Float](repeating: 40, count: d))
        let rows = Array(stride(from: 0, to: n, by: 1)).filter { $0 % 7 != 3 }  // a subset, as the control and drugs
        XCTAssertGreaterThan(rows.count, PCAModel.blockRows, "the fit must take the blockwise path")
        let streamed = try PCAModel.fit(mixed, rows: rows, components: 3)
        let inMemory = try PCAModel.fit(mixed.rows(at: rows), components: 3)
        for k in 0..<3 {
            XCTAssertEqual(streamed.explainedVariance[k], inMemory.explainedVariance[k], accuracy: 1e-9 * inMemory.explainedVariance[k])
            // Unit axes with the same sign convention: |cos| of the angle between them is 1.
            let cosine = (0..<d).reduce(0.0) { $0 + streamed.components[k, $1] * inMemory.components[k, $1] }
            XCTAssertEqual(cosine, 1, accuracy: 1e-10, "component \(k)")
        }
        for j in 0..<d { XCTAssertEqual(streamed.mean[j], inMemory.mean[j], accuracy: 1e-9) }
        let scores = try streamed.transform(Rows(matrix: mixed))
        let whole = try streamed.transform(mixed)
        XCTAssertEqual(scores.rows, n)
        for index in stride(from: 0, to: scores.storage.count, by: 997) {
            XCTAssertEqual(scores.storage[index], whole.storage[index], accuracy: 1e-4)
        }
    }
}

/// A matrix seen only through `RowBlocks`, as a memory-mapped cache file is.
private struct Rows: RowBlocks {
    let matrix: Matrix<Float>
    var rowCount: Int { matrix.rows }
    var columnCount: Int { matrix.cols }
    func rows(at indices: [Int]) throws -> Matrix<Float> { matrix.rows(at: indices) }
}
