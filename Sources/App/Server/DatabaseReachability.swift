import FluentKit
import FluentPostgresDriver
import NIOCore
import NIOPosix
import Vapor

/// Tells errors that mean "the database cannot be reached right now" (PostgreSQL stopped, restarting or
/// unreachable) from every other database error, so the API answers 503 `not_ready` with `Retry-After`
/// instead of 500 (docs/API.md "Errors").
enum DatabaseReachability {
    /// Whether `error` says the database connection is gone or cannot be made:
    /// - a closed connection (`DatabaseError.isConnectionClosed`) or PostgresNIO's connection errors
    ///   (`connectionError`, `uncleanShutdown`, `poolClosed`);
    /// - a server refusing work because it shuts down or starts (SQLSTATE class 57P, "operator
    ///   intervention": 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now) or a
    ///   connection exception (class 08); PostgreSQL documentation, Appendix A "PostgreSQL Error Codes";
    /// - no pooled connection within the pool's timeout (AsyncKit `ConnectionPoolTimeoutError`);
    /// - a refused or timed-out TCP connect (SwiftNIO `NIOConnectionError`, `ChannelError.connectTimeout`).
    static func isUnreachable(_ error: any Error) -> Bool {
        if let error = error as? any DatabaseError, error.isConnectionClosed { return true }
        if error is ConnectionPoolTimeoutError || error is NIOConnectionError { return true }
        if let error = error as? ChannelError, case .connectTimeout = error { return true }
        if let error = error as? PSQLError {
            switch error.code {
            case .connectionError, .uncleanShutdown, .poolClosed, .serverClosedConnection, .clientClosedConnection:
                return true
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                return state.hasPrefix("57P") || state.hasPrefix("08")
            default:
                return false
            }
        }
        return false
    }
}
