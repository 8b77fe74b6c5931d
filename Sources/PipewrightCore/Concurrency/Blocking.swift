import Dispatch

/// Runs blocking work (file I/O, key generation, CPU-heavy scans) on a global dispatch queue so that it
/// never occupies an event-loop thread or the cooperative pool, and awaits its result.
///
/// - Parameter work: synchronous work; it is not cancelled when the awaiting task is.
/// - Returns: what `work` returns.
/// - Throws: what `work` throws.
public func runBlocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try work() }) }
    }
}
