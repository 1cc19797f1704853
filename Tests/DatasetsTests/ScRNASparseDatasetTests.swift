import AnnData
import Datasets
import LinearAlgebra
import Stages
import XCTest

/// The displacement-sparse ICNN paper's synthetic sc-RNA task: layout, pairing, and that only
/// the k perturbed genes move by more than 1 (the paper's rule), about 99 % of them per cell.
final class ScRNASparseDatasetTests: XCTestCase {
    private let options = ScRNASparseDataset.Options(seed: 3, cells: 200, genes: 300, perturbedGenes: 20, noiseGenes: 150)

    func testLayoutPairingAndSparseDisplacement() throws {
        let data = try ScRNASparseDataset.make(options)
        guard case .dense(let x)? = data.X else { return XCTFail("X is not dense") }
        let trueMap = try XCTUnwrap(data.obsm[ScRNASparseDataset.trueMapKey])
        XCTAssertEqual([x.rows, x.cols], [400, 300])
        XCTAssertEqual([trueMap.rows, trueMap.cols], [400, 300])
        guard case .categorical(let condition)? = data.obs[ScRNASparseDataset.conditionKey] else {
            return XCTFail("no categorical condition")
        }
        XCTAssertEqual(condition.categories, ["control", "treated"])
        XCTAssertEqual(condition.codes.filter { $0 == 0 }.count, 200)

        let perturbed = Set(ScRNASparseDataset.perturbedGenes(options))
        XCTAssertEqual(perturbed.count, 20)
        var moved = 0
        for i in 0..<200 {
            for j in 0..<300 {
                XCTAssertTrue((0..<1).contains(x[i, j]), "control genes are U[0, 1)")
                // Row i + n of X is the treated copy of control row i, and it is row i's true image.
                XCTAssertEqual(x[i + 200, j], trueMap[i, j])
                let delta = Double(trueMap[i, j] - x[i, j])
                XCTAssertGreaterThanOrEqual(delta, 0)
                XCTAssertLessThan(delta, perturbed.contains(j) ? 101 : 1)
                if delta > 1 {
                    XCTAssertTrue(perturbed.contains(j), "gene \(j) moved by \(delta) but is not perturbed")
                    moved += 1
                }
            }
        }
        XCTAssertEqual(Double(moved) / 200, 20 * 0.99, accuracy: 0.5, "perturbed genes move by more than 1 with probability 0.99")
        XCTAssertEqual(try ScRNASparseDataset.make(options), data, "deterministic for a seed")
    }

    func testBadOptionsAreOneClearError() {
        var bad = options
        bad.perturbedGenes = 400
        XCTAssertThrowsError(try ScRNASparseDataset.make(bad)) { error in
            XCTAssertTrue("\(error)".contains("--perturbed-genes must be between 0 and --genes (300), got 400"), "\(error)")
        }
    }
}
