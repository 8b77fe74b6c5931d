import Foundation

/// Checks `condition` until it holds or `timeout` passes (background work such as a monitor stopping
/// has no completion handle a test could await). Returns whether it held; never a fixed sleep.
func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        await Task.yield()
        try? await Task.sleep(for: .milliseconds(5))
    }
    return try await condition()
}
