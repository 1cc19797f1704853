@testable import Pipeline
import XCTest

/// The MaxArraySize line of `scontrol show config`, as Slurm 23–24 prints it.
final class SlurmConfigTests: XCTestCase {
    func testMaxArraySizeIsReadFromTheConfig() {
        let config = """
            Configuration data as of 2026-12-06T19:20:00
            AccountingStorageBackupHost = (null)
            MaxArraySize            = 1001
            MaxJobCount             = 10000
            """
        XCTAssertEqual(SlurmExecutor.maxArraySize(inConfig: config), 1001)
        XCTAssertEqual(SlurmExecutor.maxArraySize(inConfig: "MaxArraySize = 40001\n"), 40001)
        XCTAssertNil(SlurmExecutor.maxArraySize(inConfig: "MaxJobCount = 10000\nMaxArraySizeX = 3\n"))
        XCTAssertNil(SlurmExecutor.maxArraySize(inConfig: "MaxArraySize = unlimited\n"))
    }
}
