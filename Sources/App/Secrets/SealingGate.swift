import Foundation
import Vapor

/// Keeps online master-key rotation and secret-sealing writes apart (docs/operations.md "Master key").
///
/// Every state-changing HTTP request runs under a *shared* lease (`SealingGateMiddleware`): whatever it
/// seals, it seals and stores inside the lease. `POST /api/admin/master-key/rotate` takes the lease
/// *exclusively*: it waits for the requests in flight to finish, holds new ones at the door, re-seals
/// every stored value, switches the service's key, and lets them in. So no secret sealed with the old key
/// can be written after the re-seal: there is no window. Writer-preferring: once a rotation waits, new
/// shared leases queue behind it.
actor SealingGate {
    private var readers = 0
    private var writerActive = false
    private var writersWaiting = 0
    private var readerQueue: [CheckedContinuation<Void, Never>] = []
    private var writerQueue: [CheckedContinuation<Void, Never>] = []

    /// Runs `body` under a shared lease.
    func shared<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        await acquireShared()
        defer { releaseShared() }
        return try await body()
    }

    /// Runs `body` under the exclusive lease.
    func exclusive<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        await acquireExclusive()
        defer { releaseExclusive() }
        return try await body()
    }

    func acquireShared() async {
        if !writerActive && writersWaiting == 0 {
            readers += 1
            return
        }
        await withCheckedContinuation { readerQueue.append($0) }
    }

    func releaseShared() {
        readers -= 1
        if readers == 0, !writerQueue.isEmpty {
            writersWaiting -= 1
            writerActive = true
            writerQueue.removeFirst().resume()
        }
    }

    func acquireExclusive() async {
        if !writerActive && readers == 0 {
            writerActive = true
            return
        }
        writersWaiting += 1
        await withCheckedContinuation { writerQueue.append($0) }
    }

    func releaseExclusive() {
        if !writerQueue.isEmpty {
            writersWaiting -= 1
            writerQueue.removeFirst().resume()
            return
        }
        writerActive = false
        readers += readerQueue.count
        for waiter in readerQueue { waiter.resume() }
        readerQueue = []
    }
}

/// Puts every state-changing request (not GET/HEAD/OPTIONS) under the gate's shared lease, except the
/// streaming log ingestion (it seals nothing and may last for minutes) and the rotation itself.
struct SealingGateMiddleware: AsyncMiddleware {
    let gate: SealingGate

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let method = request.method
        let path = request.url.path
        if method == .GET || method == .HEAD || method == .OPTIONS || path.hasSuffix("/logs")
            || path == MasterKeyController.rotatePath
        {
            return try await next.respond(to: request)
        }
        await gate.acquireShared()
        do {
            let response = try await next.respond(to: request)
            await gate.releaseShared()
            return response
        } catch {
            await gate.releaseShared()
            throw error
        }
    }
}
