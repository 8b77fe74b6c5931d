import Foundation

/// Runs blocking work (file I/O, key generation, CPU-heavy scans) on a thread of its own and awaits its
/// result, so that it never occupies an event-loop thread, a thread of Swift's cooperative pool, or a
/// worker of libdispatch's shared pool (which the cooperative pool draws from where it is width-limited).
///
/// A thread per call costs tens of microseconds; callers use it for work that takes far longer.
///
/// - Parameter work: synchronous work; it is not cancelled when the awaiting task is.
/// - Returns: what `work` returns.
/// - Throws: what `work` throws.
public func runBlocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.stackSize = 8 << 20
        thread.name = "pipewright-blocking"
        thread.start()
    }
}

/// Runs `body(0)` … `body(count - 1)` at the same time, `body(0)` on the calling thread and the others on
/// threads of their own, and returns when all have finished. Like `DispatchQueue.concurrentPerform`, but
/// without drawing on libdispatch's shared worker pool (see ``runBlocking(_:)``).
///
/// - Parameters:
///   - count: how many bodies run, at least 1.
///   - body: work for one index; must be safe to run concurrently with the others.
public func runConcurrentlyOnOwnThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    guard count > 1 else {
        body(0)
        return
    }
    let finished = DispatchGroup()
    for index in 1..<count {
        finished.enter()
        let thread = Thread {
            body(index)
            finished.leave()
        }
        thread.stackSize = 8 << 20
        thread.name = "pipewright-worker"
        thread.start()
    }
    body(0)
    finished.wait()
}
