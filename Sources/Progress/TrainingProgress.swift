import Foundation

/// Where a long fit is: its step out of its steps, its latest loss and the seconds since it began.
public struct TrainingStatus: Sendable, Equatable {
    public let method: String
    public let step: Int
    public let steps: Int
    /// The latest loss; NaN for a fit that does not compute one along the way.
    public let loss: Double
    public let elapsedSeconds: Double
    /// What else the step says (ProgOT: its ε and Sinkhorn iterations).
    public let detail: String?

    public init(method: String, step: Int, steps: Int, loss: Double, elapsedSeconds: Double, detail: String? = nil) {
        self.method = method
        self.step = step
        self.steps = steps
        self.loss = loss
        self.elapsedSeconds = elapsedSeconds
        self.detail = detail
    }

    /// Seconds the fit still needs at its pace so far, nil before its first step.
    public var remainingSeconds: Double? {
        guard step > 0, steps >= step else { return nil }
        return elapsedSeconds / Double(step) * Double(steps - step)
    }

    /// "egnot step 120/2000 loss -0.0312 12s eta 188s", the form the progress line appends.
    public var summary: String {
        var text = String(format: "%@ step %d/%d", method, step, steps)
        if !loss.isNaN { text += String(format: " loss %.4g", loss) }
        if let detail { text += " " + detail }
        text += String(format: " %.0fs", elapsedSeconds)
        if let remaining = remainingSeconds, step < steps { text += String(format: " eta %.0fs", remaining) }
        return text
    }
}

/// Progress from inside a fit, without threading a callback through every estimator's
/// signature: the caller (the pipeline runner, `perturbot ot`) installs a sink for the fit it
/// runs on its thread, and a trainer reports to whatever sink its thread has (none: nothing
/// happens). Fits run their training loop on the calling thread, so the sink is per thread and
/// concurrent tasks (`run --jobs 2`) each reach their own.
public enum TrainingProgress {
    public typealias Sink = @Sendable (TrainingStatus) -> Void

    private final class SinkBox: NSObject, @unchecked Sendable {
        let sink: Sink
        init(_ sink: @escaping Sink) { self.sink = sink }
    }

    private static let key = "perturbot.TrainingProgress.sink"

    /// Runs `body` with `sink` receiving this thread's training reports.
    public static func reporting<T>(to sink: @escaping Sink, _ body: () throws -> T) rethrows -> T {
        let dictionary = Thread.current.threadDictionary
        let previous = dictionary[key]
        dictionary[key] = SinkBox(sink)
        defer { dictionary[key] = previous }
        return try body()
    }

    /// Whether this thread has a sink (a trainer can skip computing a report's loss otherwise).
    public static var isObserved: Bool { Thread.current.threadDictionary[key] is SinkBox }

    /// Hands `status` to this thread's sink, if any.
    public static func report(_ status: TrainingStatus) {
        (Thread.current.threadDictionary[key] as? SinkBox)?.sink(status)
    }
}

/// Decides when a training loop reports: its first and last step, and in between at most once
/// per `interval` seconds, so a sink never slows the loop.
public struct TrainingReporter: Sendable {
    public let method: String
    public let steps: Int
    public let interval: Double
    private let start = DispatchTime.now().uptimeNanoseconds
    private var lastReport: UInt64 = 0

    public init(method: String, steps: Int, interval: Double = 1) {
        self.method = method
        self.steps = steps
        self.interval = interval
    }

    public var elapsedSeconds: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// Whether step `step` (1-based) should be reported; cheap when nobody listens.
    public func isDue(_ step: Int) -> Bool {
        guard TrainingProgress.isObserved else { return false }
        if step == 1 || step == steps { return true }
        return Double(DispatchTime.now().uptimeNanoseconds - lastReport) / 1e9 >= interval
    }

    public mutating func report(step: Int, loss: Double = .nan, detail: String? = nil) {
        lastReport = DispatchTime.now().uptimeNanoseconds
        TrainingProgress.report(TrainingStatus(method: method, step: step, steps: steps, loss: loss,
                                               elapsedSeconds: elapsedSeconds, detail: detail))
    }
}
