import CoreMetrics
import Foundation
import Metrics
import Prometheus

/// Every metric the service exports at `GET /metrics`, declared in one place (docs/API.md "Operations").
///
/// Code records through these helpers (the swift-metrics API); swift-prometheus is the backend, bootstrapped
/// once per process by ``bootstrap()``. Label values come from small fixed sets (route patterns, outcome
/// codes, operation names) so the number of time series stays bounded, and never carry user input or secrets.
///
/// | name | type | labels | meaning |
/// |---|---|---|---|
/// | `pipewright_http_requests_total` | counter | `method`, `route`, `status` | HTTP requests answered; `route` is the route pattern (`/api/ssh-keys/:keyID`) or `unmatched` |
/// | `pipewright_http_request_duration_seconds` | histogram | `method`, `route` | time from request received to response produced |
/// | `pipewright_bitbucket_requests_total` | counter | `method`, `outcome` | HTTP calls to Bitbucket by outcome: `2xx`, `3xx`, `4xx`, `429`, `5xx`, `timeout`, `connection_error` |
/// | `pipewright_ssh_operations_total` | counter | `operation`, `outcome` | per-server SSH operations (`deploy`, `test`, `undeploy`, `rotate`) by result status or error code |
/// | `pipewright_active_monitors` | gauge | — | execution monitors running in this process |
/// | `pipewright_realtime_connections` | gauge | `transport` | connected realtime clients (`socketio`, `websocket`, `sse`) |
/// | `pipewright_log_lines_stored_total` | counter | `source` | log lines appended to the log store (`monitor`, `ingest`) |
enum PipewrightMetrics {
    /// Metric names (Prometheus conventions: `_total` for counters, base units).
    enum Name {
        static let httpRequests = "pipewright_http_requests_total"
        static let httpRequestDuration = "pipewright_http_request_duration_seconds"
        static let bitbucketRequests = "pipewright_bitbucket_requests_total"
        static let sshOperations = "pipewright_ssh_operations_total"
        static let activeMonitors = "pipewright_active_monitors"
        static let realtimeConnections = "pipewright_realtime_connections"
        static let logLinesStored = "pipewright_log_lines_stored_total"
    }

    /// Realtime transports (the `transport` label).
    enum Transport: String, Sendable, CaseIterable {
        case socketIO = "socketio"
        case webSocket = "websocket"
        case serverSentEvents = "sse"
    }

    /// Where stored log lines came from (the `source` label).
    enum LogSource: String, Sendable {
        /// The execution monitor reading Bitbucket's step logs.
        case monitor
        /// `POST /api/executions/{id}/logs` (admin ingestion).
        case ingest
    }

    /// Latency buckets of the HTTP histogram (seconds: 5 ms … 30 s).
    static let httpDurationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        .seconds(30),
    ]

    /// The process-wide registry. The first access bootstraps `MetricsSystem` with it (swift-metrics allows
    /// exactly one bootstrap per process; tests create many `Application`s, which all share this registry).
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [Name.httpRequestDuration: httpDurationBuckets]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// Bootstraps the metrics system (idempotent; call before any metric is recorded, i.e. in `configure`).
    static func bootstrap() {
        _ = registry
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric.
    static func exposition() -> String {
        registry.emitToString()
    }

    // MARK: - Recording

    /// One answered HTTP request.
    ///
    /// - Parameters:
    ///   - method: HTTP method (`GET`, …).
    ///   - route: the route pattern (`/api/ssh-keys/:keyID`) or `unmatched`.
    ///   - status: the response status code.
    ///   - duration: time spent producing the response.
    static func httpRequest(method: String, route: String, status: Int, duration: Duration) {
        Counter(
            label: Name.httpRequests, dimensions: [("method", method), ("route", route), ("status", String(status))]
        )
        .increment()
        Timer(label: Name.httpRequestDuration, dimensions: [("method", method), ("route", route)])
            .record(duration: duration)
    }

    /// One HTTP call to Bitbucket (`outcome`: `2xx`, `3xx`, `4xx`, `429`, `5xx`, `timeout`, `connection_error`).
    static func bitbucketRequest(method: String, outcome: String) {
        Counter(label: Name.bitbucketRequests, dimensions: [("method", method), ("outcome", outcome)]).increment()
    }

    /// One per-server SSH operation.
    ///
    /// - Parameters:
    ///   - operation: `deploy`, `test`, `undeploy` or `rotate`.
    ///   - outcome: the result status (`deployed`, `already_present`, `removed`, `absent`, `rotated`, `ok`) or the
    ///     error code (`auth_failed`, `timeout`, …).
    static func sshOperation(_ operation: String, outcome: String) {
        Counter(label: Name.sshOperations, dimensions: [("operation", operation), ("outcome", outcome)]).increment()
    }

    /// An execution monitor started.
    static func monitorStarted() { Meter(label: Name.activeMonitors).increment() }

    /// An execution monitor ended.
    static func monitorStopped() { Meter(label: Name.activeMonitors).decrement() }

    /// A realtime client connected (call ``realtimeConnectionClosed(transport:)`` exactly once when it goes).
    static func realtimeConnectionOpened(transport: Transport) {
        Meter(label: Name.realtimeConnections, dimensions: [("transport", transport.rawValue)]).increment()
    }

    /// A realtime client disconnected.
    static func realtimeConnectionClosed(transport: Transport) {
        Meter(label: Name.realtimeConnections, dimensions: [("transport", transport.rawValue)]).decrement()
    }

    /// `count` log lines were appended to the log store.
    static func logLinesStored(_ count: Int, source: LogSource) {
        guard count > 0 else { return }
        Counter(label: Name.logLinesStored, dimensions: [("source", source.rawValue)]).increment(by: count)
    }

    /// Declares every family with zero values, so a scrape shows all of them from the start.
    static func declareFamilies() {
        Counter(label: Name.logLinesStored, dimensions: [("source", LogSource.monitor.rawValue)]).increment(by: 0)
        Counter(label: Name.logLinesStored, dimensions: [("source", LogSource.ingest.rawValue)]).increment(by: 0)
        Meter(label: Name.activeMonitors).increment(by: 0)
        for transport in Transport.allCases {
            Meter(label: Name.realtimeConnections, dimensions: [("transport", transport.rawValue)]).increment(by: 0)
        }
    }
}

extension PipewrightMetrics {
    /// Records each per-server result of a deploy, undeploy or rotate (outcome: status or error code).
    static func sshOperations(_ operation: String, _ results: [ServerOperationResult]) {
        for result in results {
            sshOperation(operation, outcome: result.error.map(OperationErrorResponse.init)?.code ?? result.status)
        }
    }
}
