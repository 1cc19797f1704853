import ArgumentParser
import Foundation
import LinearAlgebra
import Transport

/// `perturbot bench kernel-limits`: the two ceilings of a dense log-domain Sinkhorn iteration on
/// this machine, which reads the cost matrix twice and takes 2·n·m exponentials: the
/// exponentials per second of the row kernel (its data in cache, one core and all cores; Float
/// and Double) and the bytes per second a streaming read of a large array gets (all cores).
/// For Double it also gives the read floor with the cost held in Float: what a Float cost
/// matrix under Double potentials could at best save.
struct KernelLimitsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel-limits",
        abstract: "Measure the row kernel's exponentials per second and the memory read bandwidth (Sinkhorn's two ceilings).")

    @Option(parsing: .unconditional, help: "Size of the array read for the bandwidth, in MiB.")
    var megabytes = 512

    @Option(parsing: .unconditional, help: "Sinkhorn size n = m whose per-iteration floor is reported.")
    var n = 4096

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        try reportingErrors {
            guard megabytes >= 16, n >= 1 else { throw ValidationError("--megabytes must be at least 16 and --n at least 1") }
            let cores = ProcessInfo.processInfo.activeProcessorCount
            let oneCore = Self.exponentialsPerSecond(Float.self, threads: 1)
            let allCores = Self.exponentialsPerSecond(Float.self, threads: cores)
            let doubleOneCore = Self.exponentialsPerSecond(Double.self, threads: 1)
            let doubleAllCores = Self.exponentialsPerSecond(Double.self, threads: cores)
            let bandwidth = Self.readBytesPerSecond(megabytes: megabytes, threads: cores)
            let entries = Double(n) * Double(n)
            let expFloor = 2 * entries / allCores
            let readFloor = 2 * entries * Double(MemoryLayout<Float>.size) / bandwidth
            let fields: [(String, JSONValue)] = [
                ("row_kernel", .string(rowKernelInstructionSet)), ("cores", .integer(cores)),
                ("exp_per_second_one_core", .number(oneCore)), ("exp_per_second_all_cores", .number(allCores)),
                ("read_bytes_per_second_all_cores", .number(bandwidth)),
                ("n", .integer(n)), ("iteration_floor_exp_seconds", .number(expFloor)),
                ("iteration_floor_read_seconds", .number(readFloor)),
                ("double_exp_per_second_one_core", .number(doubleOneCore)),
                ("double_exp_per_second_all_cores", .number(doubleAllCores)),
                ("double_iteration_floor_exp_seconds", .number(2 * entries / doubleAllCores)),
                ("double_iteration_floor_read_seconds", .number(2 * entries * Double(MemoryLayout<Double>.size) / bandwidth)),
                ("double_iteration_floor_read_seconds_float_cost", .number(readFloor)),
            ]
            printFields(fields, json: json)
        }
    }

    /// Row sums of 4,096 entries (in L1/L2) repeated on each thread; best of 3 rounds.
    static func exponentialsPerSecond<Scalar: TransportScalar>(_: Scalar.Type, threads: Int) -> Double {
        let count = 4096, calls = 4000
        let cost = (0..<count).map { Scalar(($0 * 37) % 101) / 7 }
        let offsets = (0..<count).map { -Scalar($0 % 5) / 3 }
        var best = 0.0
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                var sink: Scalar = 0
                cost.withUnsafeBufferPointer { c in
                    offsets.withUnsafeBufferPointer { o in
                        guard let c = c.baseAddress, let o = o.baseAddress else { return }
                        for call in 0..<calls {
                            sink += Scalar.shiftedExponentialSum(cost: c, offsets: o, count: count,
                                                                 inverseEpsilon: 1.25, shift: Scalar(call % 3))
                        }
                    }
                }
                if sink == -1 { print(sink) }  // keeps the work
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, Double(threads * calls * count) / seconds)
        }
        return best
    }

    /// A SIMD sum over `megabytes` of Float split over `threads`; best of 3 rounds.
    static func readBytesPerSecond(megabytes: Int, threads: Int) -> Double {
        let count = megabytes << 18  // Floats
        let values = [Float](repeating: 1, count: count)
        var best = 0.0
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            values.withUnsafeBufferPointer { buffer in
                let base = UncheckedSendable(buffer)
                DispatchQueue.concurrentPerform(iterations: threads) { part in
                    let chunk = count / threads, first = part * chunk
                    var lanes = SIMD8<Float>(repeating: 0)
                    let pointer = UnsafeRawPointer(base.value.baseAddress! + first)
                    for k in stride(from: 0, to: chunk - 7, by: 8) {
                        lanes += pointer.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
                    }
                    if lanes.sum() == -1 { print(lanes) }
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, Double(count * MemoryLayout<Float>.size) / seconds)
        }
        return best
    }
}
