@testable import Pipeline
import Progress
import Transport
import XCTest

/// The run's ETA counts tasks in flight by their own training pace, and tasks not started by
/// their stage's mean compute time (all stages' mean for a stage not seen yet).
final class ProgressLineTests: XCTestCase {
    func testETACountsTasksInFlightAndByStage() {
        let line = ProgressLine(interactive: false, plainTrainingInterval: .infinity)
        line.begin(taskIDs: ["load", "solve/a", "solve/b", "solve/c", "evaluate/a"], workers: 1)
        line.finished("load", seconds: nil)  // reused from the cache: no time, no mean
        line.finished("solve/a", seconds: 10)
        line.started("solve/b")
        // A quarter of solve/b's steps in 2 s: 6 s to go at its pace, not solve's mean of 10 s.
        line.training(TrainingStatus(method: "icnn", step: 25, steps: 100, loss: .nan, elapsedSeconds: 2), task: "solve/b")
        // solve/c not started: 10 s; evaluate/a, a stage not seen yet: the overall mean, 10 s.
        XCTAssertEqual(line.remainingSeconds(), 6 + 10 + 10, accuracy: 1e-9)

        line.finished("solve/b", seconds: 8)
        XCTAssertEqual(line.remainingSeconds(), 9 + 9, accuracy: 1e-9)
        line.begin(taskIDs: ["load", "solve/a", "solve/b", "solve/c", "evaluate/a"], workers: 2)
        XCTAssertEqual(line.remainingSeconds(), 9, accuracy: 1e-9, "shared over the workers")
    }

    func testTrainingSummaryGivesTheFitsOwnETA() {
        let status = TrainingStatus(method: "progot", step: 4, steps: 16, loss: .nan, elapsedSeconds: 2,
                                    detail: "ε 0.5, 120 Sinkhorn iterations")
        XCTAssertEqual(status.summary, "progot step 4/16 ε 0.5, 120 Sinkhorn iterations 2s eta 6s")
        let last = TrainingStatus(method: "egnot", step: 10, steps: 10, loss: -0.25, elapsedSeconds: 3)
        XCTAssertEqual(last.summary, "egnot step 10/10 loss -0.25 3s")
    }
}
