import CHDF5
import Synchronization

/// Process-wide HDF5 state.
///
/// Debian's serial libhdf5 is not thread-safe, so every public entry point of this module runs
/// its HDF5 calls under `HDF5Library.lock`. HDF5's automatic error-stack printing is switched off
/// once; failures are read back from the stack with `takeErrorMessage()` and folded into an
/// `AnnDataError` instead.
enum HDF5Library {
    private static let state = Mutex<Bool>(false)

    /// Runs `body` while holding the library lock, after one-time initialisation.
    static func withLock<R>(_ body: () throws -> R) throws -> R {
        try state.withLock { initialised in
            if !initialised {
                H5open()
                H5Eset_auto2(phdf5_error_default(), nil, nil)
                initialised = true
            }
            return try body()
        }
    }

    /// The messages on HDF5's current error stack, outermost first, then clears the stack.
    static func takeErrorMessage() -> String {
        final class Collector { var messages: [String] = [] }
        let collector = Collector()
        let context = Unmanaged.passUnretained(collector).toOpaque()
        H5Ewalk2(phdf5_error_default(), H5E_WALK_DOWNWARD, { _, error, context in
            guard let error, let context, let description = error.pointee.desc else { return 0 }
            let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
            collector.messages.append(String(cString: description))
            return 0
        }, context)
        H5Eclear2(phdf5_error_default())
        var unique: [String] = []
        for message in collector.messages where !message.isEmpty && !unique.contains(message) {
            unique.append(message)
        }
        // The outermost message says what failed, the innermost says why; the middle rarely helps.
        if unique.count > 2 { unique = [unique[0], unique[unique.count - 1]] }
        return unique.joined(separator: ": ")
    }
}
