import Foundation

/// Lets a monitor sleep until its next poll or until something (a webhook, shutdown) wakes it.
actor WakeSignal {
    private var pending = false
    private var waiter: CheckedContinuation<Void, Never>?

    /// Wakes the current (or next) wait.
    func signal() {
        if let waiter {
            self.waiter = nil
            waiter.resume()
        } else {
            pending = true
        }
    }

    /// Returns after `delay` on `clock`, or earlier when signalled.
    func wait(for delay: Duration, clock: any Clock<Duration>) async {
        if pending {
            pending = false
            return
        }
        let sleeper = Task { [weak self] in
            try? await clock.sleep(for: delay)
            await self?.signal()
        }
        await withCheckedContinuation { waiter = $0 }
        sleeper.cancel()
        pending = false
    }
}
