/// A connection that takes frames without being awaited, so the hub can write a live viewer's events
/// itself during its fan-out (docs/realtime.md "Fan-out").
///
/// Implemented by the app for WebSocket transports: `write` hands the frame to the connection's event
/// loop and returns; `isWritable` is the back-pressure signal (false while more than the connection's
/// allowance of bytes is queued and not yet written to the socket). A feed whose writer is not writable
/// takes its events back on its own task, where writes are awaited, and the hub's bounded buffer and the
/// `slow_consumer` cut-off apply as before.
public protocol RealtimeFrameWriter: Sendable {
    /// Whether the connection takes more frames now (its queued bytes are under its allowance, and it is open).
    var isWritable: Bool { get }
    /// Queues `event`'s frame (payload at most the feed's `maximumPayloadBytes`) on the connection, in order
    /// after everything queued before; never waits. A failed write closes the connection (the transport's
    /// own handling), which ends the feed.
    func write(_ event: RealtimeEvent)
    /// Writes `event`'s frame and returns once it has been written to the socket (the feed's own, awaited path).
    /// - Throws: the transport's error when the connection is gone.
    func send(_ event: RealtimeEvent) async throws
    /// Writers whose `barrier()` waits for the same thing (one event loop) have equal keys; the hub awaits one
    /// barrier per key.
    var barrierKey: ObjectIdentifier { get }
    /// Returns once every frame queued before the call (on this writer's event loop) has been handed to its socket.
    func barrier() async
}
