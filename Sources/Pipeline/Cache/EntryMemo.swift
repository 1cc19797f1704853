import Foundation

/// Inputs decoded once per process and shared by its tasks. A cache entry never changes once
/// written (its key is its content's address), so the PCA model, the label codes and the mapped
/// matrices that every solve, evaluate and ceiling task of a screen reads are decoded (and
/// digest-checked) once, not 20,000 times.
final class EntryMemo: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: Any] = [:]

    /// The value remembered under `name`, or `make()`'s, remembered.
    func value<Value>(_ name: String, _ make: () throws -> Value) throws -> Value {
        lock.lock()
        if let value = values[name] as? Value {
            lock.unlock()
            return value
        }
        lock.unlock()
        let value = try make()
        lock.lock()
        values[name] = value
        lock.unlock()
        return value
    }
}
