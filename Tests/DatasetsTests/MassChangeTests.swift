import AnnData
import Datasets
import Foundation
import XCTest

/// --death/--growth in both generators: the treated cells' state shares move by the factors, the
/// truth is recorded, the defaults are untouched and bad requests are refused.
final class MassChangeTests: XCTestCase {
    private func shares(_ data: AnnData<Float>, drug: String) throws -> [String: Double] {
        let drugs = try XCTUnwrap(try data.obsLabels("drug")), states = try XCTUnwrap(try data.obsLabels("cell_state"))
        let mine = drugs.indices.filter { drugs[$0] == drug }
        var counts: [String: Double] = [:]
        for index in mine { counts[states[index] ?? "?", default: 0] += 1 }
        return counts.mapValues { $0 / Double(mine.count) }
    }

    func testScRNALikeStateSharesFollowTheFactors() throws {
        let changes = [MassChange(drug: "belinostat", state: "state1", factor: 0.1), MassChange(drug: "belinostat", state: "state3", factor: 3)]
        let data = try ScRNALikeDataset.make(.init(genes: 60, controlCells: 600, cellsPerDrug: 600, massChanges: changes))
        let control = try shares(data, drug: "control"), treated = try shares(data, drug: "belinostat"), other = try shares(data, drug: "dacinostat")
        // Proportions (0.5, 0.3, 0.2) × factors (0.1, 1, 3) = (0.05, 0.3, 0.6) of 0.95.
        XCTAssertEqual(treated["state1"] ?? 0, 0.05 / 0.95, accuracy: 0.03)
        XCTAssertEqual(treated["state3"] ?? 0, 0.6 / 0.95, accuracy: 0.04)
        XCTAssertEqual(other["state1"] ?? 0, 0.5, accuracy: 0.1, "other drugs keep the control law's share (0.5)")
        XCTAssertEqual(control["state1"] ?? 0, 0.5, accuracy: 0.1)
        guard case .dictionary(let record)? = data.uns["perturbot_scrna_like"], case .dictionary(let mass)? = record["mass"],
              case .dictionary(let belinostat)? = mass["belinostat"], case .dictionary(let state1)? = belinostat["state1"],
              case .double(let expected)? = state1["expected_retained_mass"] else {
            return XCTFail("uns perturbot_scrna_like/mass/belinostat/state1 missing")
        }
        XCTAssertEqual(expected, 0.1 / 0.95, accuracy: 1e-12)
        // Without changes the file is the one it always was (the same draws).
        let plain = try ScRNALikeDataset.make(.init(genes: 60, controlCells: 50, cellsPerDrug: 20))
        let again = try ScRNALikeDataset.make(.init(genes: 60, controlCells: 50, cellsPerDrug: 20, massChanges: []))
        XCTAssertEqual(plain, again)
    }

    func testBadChangesAreRefused() {
        for (change, message) in [
            (MassChange(drug: "aspirin", state: "state1", factor: 0.5), "unknown drug 'aspirin'"),
            (MassChange(drug: "cisplatin", state: "state7", factor: 0.5), "unknown state 'state7'"),
            (MassChange(drug: "cisplatin", state: "state1", factor: -1), "must be ≥ 0"),
        ] {
            XCTAssertThrowsError(try DemoDataset.make(.init(controlCells: 10, cellsPerDrug: 10, massChanges: [change]))) {
                XCTAssertTrue("\($0)".contains(message), "\($0)")
            }
        }
        let all = DemoDataset.stateNames.map { MassChange(drug: "cisplatin", state: $0, factor: 0) }
        XCTAssertThrowsError(try DemoDataset.make(.init(controlCells: 10, cellsPerDrug: 10, massChanges: all))) {
            XCTAssertTrue("\($0)".contains("kills every state"), "\($0)")
        }
    }
}
