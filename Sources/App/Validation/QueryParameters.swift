import Foundation
import LogStore
import PipewrightCore
import Vapor

/// A typed set of query parameters, decoded with `req.query.decode` and shared by the JSON API and the
/// dashboard's filter forms. Values arrive as text and are checked by the struct's own accessors, so
/// every refusal is a 400 `invalid_field` naming the parameter.
protocol QueryParameters: Decodable, Sendable {
    /// The parameter names the struct reads (checked for undecodable percent-encoding first).
    static var parameterNames: [String] { get }
}

extension Request {
    /// Decodes `Q` from the query string.
    ///
    /// - Throws: `AppError.invalidField` for a parameter that is present but not valid UTF-8 text.
    func decodeQuery<Q: QueryParameters>(_ type: Q.Type) throws -> Q {
        for name in Q.parameterNames { _ = try FieldRules.queryText(self, name) }
        do {
            return try query.decode(Q.self)
        } catch {
            throw AppError.invalidField("query", reason: "could not be read")
        }
    }
}

/// `from_date` / `to_date` of the log and audit filters: RFC 3339 timestamps, or `YYYY-MM-DD` days in
/// UTC. A day as `to_date` means the end of that day (23:59:59.999), so `from_date=D&to_date=D` is day D;
/// a `to_date` timestamp in whole seconds includes that second (times are shown in whole seconds but
/// stored with fractions, so `to_date=<a shown time>` includes that row).
struct DateRangeParameters: QueryParameters {
    var fromDate: String?
    var toDate: String?

    static let parameterNames = ["from_date", "to_date"]

    enum CodingKeys: String, CodingKey {
        case fromDate = "from_date"
        case toDate = "to_date"
    }

    /// The range; empty values mean "no bound".
    ///
    /// - Throws: `AppError.invalidField` for a value that is neither form (`2026-02-30` included), or a
    ///   `to_date` before `from_date`.
    func range() throws -> (from: Date?, to: Date?) {
        let from = try Self.date(fromDate, field: "from_date", endOfDay: false)
        let to = try Self.date(toDate, field: "to_date", endOfDay: true)
        if let from, let to, to < from {
            throw AppError.invalidField("to_date", reason: "must not be before from_date")
        }
        return (from, to)
    }

    static func date(_ text: String?, field: String, endOfDay: Bool) throws -> Date? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let date = RFC3339.parse(text) {
            let wholeSeconds = !text.contains(".")
            return endOfDay && wholeSeconds ? date.addingTimeInterval(0.999) : date
        }
        if let day = RFC3339.parseDay(text) { return endOfDay ? day.addingTimeInterval(86_399.999) : day }
        throw AppError.invalidField(field, reason: "must be an RFC 3339 timestamp or a YYYY-MM-DD date")
    }
}

/// `?status=&q=` of `GET /api/ssh-keys`.
struct KeyListParameters: QueryParameters {
    var status: String?
    var q: String?

    static let parameterNames = ["status", "q"]

    func filter() throws -> KeyCatalog.Filter {
        var filter = KeyCatalog.Filter(text: q)
        if let status {
            guard let parsed = StoredKey.Status(rawValue: status) else {
                throw AppError.invalidField("status", reason: "must be active or retired")
            }
            filter.status = parsed
        }
        return filter
    }
}

/// `?status=` of the execution lists (case-insensitive `SUCCESS`, `failed`, …).
struct ExecutionStatusParameter: QueryParameters {
    var status: String?

    static let parameterNames = ["status"]

    func parsed() throws -> Execution.Status? {
        guard let status else { return nil }
        guard let parsed = Execution.Status(rawValue: status.uppercased()) else {
            throw AppError.invalidField(
                "status", reason: "must be one of \(Execution.Status.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return parsed
    }
}

/// A boolean query flag as text: absent or empty = `false`; `true/false/1/0/yes/no` accepted.
func parseFlag(_ raw: String?, name: String) throws -> Bool {
    guard let raw else { return false }
    switch raw.lowercased() {
    case "true", "1", "yes": return true
    case "false", "0", "no", "": return false
    default: throw AppError.invalidField(name, reason: "must be true or false")
    }
}

/// The filters of `GET /api/executions/{id}/logs`: `q, regex, case_sensitive, level, step, from_seq,
/// after_seq, page, per_page, highlight, context` (docs/API.md "Logs").
struct LogLineParameters: QueryParameters {
    var q: String?
    var regex: String?
    var caseSensitive: String?
    var level: String?
    var step: String?
    var fromSeq: String?
    var afterSeq: String?
    var page: String?
    var perPage: String?
    var highlight: String?
    var context: String?

    static let parameterNames = [
        "q", "regex", "case_sensitive", "level", "step", "from_seq", "after_seq", "page", "per_page", "highlight",
        "context",
    ]

    enum CodingKeys: String, CodingKey {
        case q, regex, level, step, page, highlight, context
        case caseSensitive = "case_sensitive"
        case fromSeq = "from_seq"
        case afterSeq = "after_seq"
        case perPage = "per_page"
    }

    /// The store query.
    ///
    /// - Throws: `AppError.invalidField` naming the parameter; `LogStoreError.invalidRegex`.
    func query() throws -> LogQuery {
        func integer(_ raw: String?, _ name: String, range: ClosedRange<Int>) throws -> Int? {
            guard let raw else { return nil }
            guard let value = Int(raw), range.contains(value) else {
                throw AppError.invalidField(
                    name, reason: "must be a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return value
        }
        var filter = LogFilter()
        if let q, !q.isEmpty {
            guard q.utf8.count <= 1000 else { throw AppError.invalidField("q", reason: "must be at most 1000 bytes") }
            filter.text = q
        }
        filter.isRegex = try parseFlag(regex, name: "regex")
        filter.isCaseSensitive = try parseFlag(caseSensitive, name: "case_sensitive")
        if let level {
            guard let parsed = LogLevel(name: level) else {
                throw AppError.invalidField("level", reason: "must be ERROR, WARN, INFO or DEBUG")
            }
            filter.minimumLevel = parsed
        }
        filter.step = step
        try LogStore.validate(filter)
        filter.fromSeq = try integer(fromSeq, "from_seq", range: 1...Int(Int32.max))
        let context = try integer(context, "context", range: 0...50) ?? 0
        let pagination: LogPagination
        if let after = try integer(afterSeq, "after_seq", range: 0...Int(Int32.max)) {
            // `page` has no meaning with a cursor, but a malformed one is still refused (one rule per field).
            if page != nil { _ = try PageParameters(page: page, perPage: nil).request() }
            let perPage = min(
                try integer(perPage, "per_page", range: 1...Int(Int32.max))
                    ?? PipewrightCore.PageRequest.defaultPerPage,
                PipewrightCore.PageRequest.maximumPerPage)
            pagination = .after(seq: after, perPage: perPage)
        } else {
            pagination = .page(try PageParameters(page: page, perPage: perPage).request())
        }
        return LogQuery(
            filter: filter, pagination: pagination, context: context,
            includesHighlights: try parseFlag(highlight, name: "highlight"))
    }
}

/// `?page=&per_page=` parsed strictly, so `page=abc` is a 400, not a silent default.
struct PageParameters: QueryParameters {
    var page: String?
    var perPage: String?

    static let parameterNames = ["page", "per_page"]

    enum CodingKeys: String, CodingKey {
        case page
        case perPage = "per_page"
    }

    /// - Throws: `AppError.invalidField` for non-numbers, `page` < 1 or `per_page` < 1.
    func request() throws -> PipewrightCore.PageRequest {
        func integer(_ raw: String?, _ name: String) throws -> Int? {
            guard let raw else { return nil }
            guard let value = Int(raw.trimmingCharacters(in: .whitespaces)) else {
                throw AppError.invalidField(name, reason: "must be a whole number")
            }
            return value
        }
        do {
            return try PipewrightCore.PageRequest(
                page: try integer(page, "page"), perPage: try integer(perPage, "per_page"))
        } catch let error as PipewrightCore.PageRequest.Invalid {
            throw AppError.invalidField(error.field, reason: error.reason)
        }
    }
}

/// The filters of the seed's `GET /api/pipelines/{id}/logs`: `status, from_date, to_date, step_filter`.
struct PipelineLogParameters: QueryParameters {
    var status: String?
    var fromDate: String?
    var toDate: String?
    var stepFilter: String?

    static let parameterNames = ["status", "from_date", "to_date", "step_filter"]

    enum CodingKeys: String, CodingKey {
        case status
        case fromDate = "from_date"
        case toDate = "to_date"
        case stepFilter = "step_filter"
    }

    func filter() throws -> LogQueries.PipelineLogFilter {
        let (from, to) = try DateRangeParameters(fromDate: fromDate, toDate: toDate).range()
        return LogQueries.PipelineLogFilter(
            status: try ExecutionStatusParameter(status: status).parsed(), from: from, to: to, stepFilter: stepFilter)
    }
}
