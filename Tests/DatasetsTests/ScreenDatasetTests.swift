import AnnData
import Datasets
import Foundation
import LinearAlgebra
import XCTest

/// `generate screen`: the layout of a sci-Plex-3-shaped file, and the law behind it (effects
/// that grow with dose, weaker in resistant lines, killed states) seen in the counts.
final class ScreenDatasetTests: XCTestCase {
    private let options = ScreenDataset.Options(seed: 3, cellLines: 2, drugs: 12, doses: 4, cellsPerCondition: 80,
                                                controlCellsPerLine: 400, genes: 200)

    func testLayoutLabelsAndDoses() throws {
        let data = try ScreenDataset.make(options)
        XCTAssertEqual(data.nObs, options.cellCount)
        XCTAssertEqual(data.nObs, 2 * (400 + 12 * 4 * 80))
        let drugs = try XCTUnwrap(try data.obsLabels("drug")), lines = try XCTUnwrap(try data.obsLabels("cell_line"))
        XCTAssertEqual(Set(lines.compactMap { $0 }), ["A549", "K562"])
        XCTAssertEqual(drugs.filter { $0 == ScreenDataset.vehicle }.count, 800)
        guard case .double(let doses) = try data.obsColumn("dose") else { return XCTFail("obs dose is not numeric") }
        for (drug, dose) in zip(drugs, doses) {
            if drug == ScreenDataset.vehicle { XCTAssertEqual(dose, 0) } else { XCTAssertTrue([10, 100, 1000, 10000].contains(dose)) }
        }
        guard case .dictionary(let record)? = data.uns["perturbot_screen"], case .dictionary(let truth)? = record["drugs"] else {
            return XCTFail("uns perturbot_screen/drugs missing")
        }
        XCTAssertEqual(truth.count, 12)
        XCTAssertEqual(try ScreenDataset.make(options), data, "seeded")
    }

    /// Mean log1p count over `genes` of the cells matching `select`.
    private func pseudobulk(_ data: AnnData<Float>, genes: [Int], _ select: (Int) -> Bool) throws -> Double {
        let x = try XCTUnwrap(data.X).densified()
        var sum = 0.0, count = 0
        for row in 0..<x.rows where select(row) {
            for gene in genes { sum += log1p(Double(x[row, gene])) }
            count += 1
        }
        return sum / Double(max(1, count) * genes.count)
    }

    func testEffectsGrowWithDoseAreWeakerWhenResistantAndKillStates() throws {
        let data = try ScreenDataset.make(options)
        let law = ScreenDataset.Law(options)
        let drugs = try XCTUnwrap(try data.obsLabels("drug")), lines = try XCTUnwrap(try data.obsLabels("cell_line"))
        let states = try XCTUnwrap(try data.obsLabels("cell_state"))
        guard case .double(let doses) = try data.obsColumn("dose") else { return XCTFail("obs dose") }
        let names = ScreenDataset.drugNames(12), lineNames = ScreenDataset.lineNames(2)
        var checked = 0
        for (index, drug) in law.drugs.enumerated() where drug.active {
            let up = zip(drug.genes, drug.logFoldChanges).filter { $0.1 > 0.8 }.map(\.0)
            guard up.count >= 2 else { continue }
            for (line, lineName) in lineNames.enumerated() where law.sensitivity[line][index] >= 0.6 {
                let vehicle = try pseudobulk(data, genes: up) { drugs[$0] == ScreenDataset.vehicle && lines[$0] == lineName }
                let changes = try [10.0, 10000].map { dose in
                    try pseudobulk(data, genes: up) { drugs[$0] == names[index] && lines[$0] == lineName && doses[$0] == dose } - vehicle
                }
                let expected = [10.0, 10000].map { drug.response(dose: $0) * law.sensitivity[line][index] }
                // The up genes rise with the response; a response that grows by more than 0.3 shows.
                if expected[1] - expected[0] > 0.3 {
                    XCTAssertGreaterThan(changes[1], changes[0], "\(names[index]) in \(lineName)")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 2, "enough active drugs to check")
        // A killing drug at its highest dose leaves fewer cells of its state than the vehicle has.
        var kills = 0
        for (index, drug) in law.drugs.enumerated() {
            guard let kill = drug.kill, drug.response(dose: 10000) > 0.5 else { continue }
            for (line, lineName) in lineNames.enumerated() where law.sensitivity[line][index] >= 0.6 {
                func share(_ select: (Int) -> Bool) -> Double {
                    let rows = drugs.indices.filter(select)
                    return Double(rows.filter { states[$0] == ScreenDataset.stateNames[kill.state] }.count) / Double(rows.count)
                }
                let vehicleShare = share { drugs[$0] == ScreenDataset.vehicle && lines[$0] == lineName }
                let treatedShare = share { drugs[$0] == names[index] && lines[$0] == lineName && doses[$0] == 10000 }
                XCTAssertLessThan(treatedShare, vehicleShare, "\(names[index]) kills \(ScreenDataset.stateNames[kill.state]) in \(lineName)")
                kills += 1
            }
        }
        XCTAssertGreaterThan(kills, 0, "at least one killing drug at this seed")
    }
}
