import AnnData
import Stages
import XCTest

/// A screen's conditions: tuples of obs values as labels, the control whatever its dose, contexts
/// with their own control cells, and the refusals that name the column and value.
final class ConditionTableTests: XCTestCase {
    private let drug: [String?] = ["vehicle", "cis", "cis", "cis", "vehicle", "dox", "cis", nil]
    private let dose: [String?] = [nil, "10", "100", "10", "0", "10", "10", "10"]
    private let line: [String?] = ["A549", "A549", "A549", "K562", "K562", "K562", nil, "K562"]

    func testTuplesAreJoinedAndEveryVehicleCellIsControl() throws {
        let table = try ConditionTable.make(columns: [("drug", drug), ("dose", dose)], context: nil, control: "vehicle")
        XCTAssertEqual(table.conditions, ["vehicle", "cis_10", "cis_100", "cis_10", "vehicle", "dox_10", "cis_10", nil])
        XCTAssertNil(table.contexts)
        XCTAssertEqual(table.problems(control: "vehicle"), ["cis_10", "cis_100", "dox_10"])
        XCTAssertEqual(table.counts(), ["vehicle": 2, "cis_10": 3, "cis_100": 1, "dox_10": 1])
    }

    func testContextsMakeOneProblemPerContextAndCondition() throws {
        let table = try ConditionTable.make(columns: [("drug", drug), ("dose", dose)], context: ("cell_line", line), control: "vehicle")
        XCTAssertEqual(table.problems(control: "vehicle"), ["A549/cis_10", "A549/cis_100", "K562/cis_10", "K562/dox_10"],
                       "cell 6 has no cell line and belongs to no problem")
        XCTAssertEqual(table.contexts, line)
        // Each context has its own control cells (cell 0 in A549, cell 4 in K562).
        XCTAssertEqual(table.counts(), ["A549/vehicle": 1, "A549/cis_10": 1, "A549/cis_100": 1,
                                        "K562/vehicle": 1, "K562/cis_10": 1, "K562/dox_10": 1])
        XCTAssertEqual(ConditionTable.parts(of: "K562/cis_10").context, "K562")
        XCTAssertEqual(ConditionTable.parts(of: "K562/cis_10").condition, "cis_10")
        XCTAssertNil(ConditionTable.parts(of: "cis_10").context)
    }

    func testRefusalsNameTheColumnsAndValues() {
        XCTAssertThrowsError(try ConditionTable.make(columns: [("drug", ["a_b", "a"]), ("dose", ["1", "b_1"])], context: nil, control: "v")) {
            XCTAssertEqual("\($0)", "obs columns drug, dose: the values (a_b, 1) and (a, b_1) both make the condition label 'a_b_1'")
        }
        XCTAssertThrowsError(try ConditionTable.make(columns: [("drug", ["v", "x/y"])], context: ("cell_line", ["A", "A"]), control: "v")) {
            XCTAssertTrue("\($0)".hasPrefix("obs column 'drug': value 'x/y' contains '/'"), "\($0)")
        }
        XCTAssertThrowsError(try ConditionTable.make(columns: [("drug", ["v", "x"]), ("dose", ["1"])], context: nil, control: "v")) {
            XCTAssertEqual("\($0)", "obs column 'dose' has 1 values, 'drug' has 2")
        }
    }

    func testNumericObsValuesAreLabelledAsPandasPrintsThem() throws {
        var obs = DataFrame(index: ["a", "b", "c", "d"])
        try obs.setColumn("dose", .double([10, 0.5, .nan, 1e-5]))
        try obs.setColumn("replicate", .integer([1, 2, 3, 4]))
        try obs.setColumn("treated", .bool([true, false, true, false]))
        let data = AnnData<Float>(X: nil, obs: obs, var: DataFrame(index: []))
        XCTAssertEqual(try data.obsValueLabels("dose"), ["10", "0.5", nil, "1e-05"])
        XCTAssertEqual(try data.obsValueLabels("replicate"), ["1", "2", "3", "4"])
        XCTAssertEqual(try data.obsValueLabels("treated"), ["True", "False", "True", "False"])
        XCTAssertThrowsError(try data.obsValueLabels("colour"))
    }

    /// `read` labels an AnnData's cells from its obs columns, a numeric dose included, as the load
    /// stage and `perturbot validate` both do.
    func testReadLabelsAFilesCellsFromItsObsColumns() throws {
        var obs = DataFrame(index: ["a", "b", "c", "d"])
        try obs.setColumn("drug", .categorical(Categorical(values: ["vehicle", "cis", "cis", "vehicle"])))
        try obs.setColumn("dose", .double([0, 10, 0.5, .nan]))
        try obs.setColumn("cell_line", .string(["A549", "A549", "K562", "K562"]))
        let data = AnnData<Float>(X: nil, obs: obs, var: DataFrame(index: []))
        let table = try ConditionTable.read(data, conditionKeys: ["drug", "dose"], contextKey: "cell_line", control: "vehicle")
        XCTAssertEqual(table.conditions, ["vehicle", "cis_10", "cis_0.5", "vehicle"], "a vehicle without a dose is a control cell")
        XCTAssertEqual(table.contexts, ["A549", "A549", "K562", "K562"])
        XCTAssertEqual(table.problems(control: "vehicle"), ["A549/cis_10", "K562/cis_0.5"])
        XCTAssertThrowsError(try ConditionTable.read(data, conditionKeys: ["drug", "amount"], contextKey: nil, control: "vehicle"))
    }
}
