import PipewrightCore

/// Every error the `LogStore` module throws.
///
/// The HTTP adapter maps these to statuses (`invalidRegex`/`invalidQuery`/`invalidRange` → 400/416,
/// `executionNotFound` → 404, `regexTimeout` → 400 or 422, `ioFailure` → 500). Messages never contain log
/// text, only the caller's own input (the pattern) and file-system reasons.
public enum LogStoreError: PipewrightError, Equatable {
    /// The regular expression does not compile (ICU syntax, as `NSRegularExpression` accepts).
    case invalidRegex(reason: String)
    /// A regex query used up its time budget (see ``LogQuery/regexBudget``) before deciding a single line
    /// (a pathological pattern); a budget that runs out later gives a partial page instead.
    case regexTimeout(budget: Duration)
    /// No log has been stored for this execution (never appended to, or deleted by retention).
    case executionNotFound(execution: Int)
    /// A byte range outside the stored raw log (`length` is the stored length in bytes).
    case invalidRange(length: Int64)
    /// A query parameter outside its documented bounds (`field` is the snake_case parameter name).
    case invalidQuery(field: String, reason: String)
    /// More than ``LogStore/maximumStepsPerExecution`` distinct step names in one execution.
    case tooManySteps(execution: Int)
    /// Reading or writing the data directory failed (`reason` names the operation, file and `errno` text).
    case ioFailure(reason: String)

    /// Stable snake_case identifier.
    public var code: String {
        switch self {
        case .invalidRegex: "invalid_regex"
        case .regexTimeout: "regex_timeout"
        case .executionNotFound: "execution_not_found"
        case .invalidRange: "invalid_range"
        case .invalidQuery: "invalid_query"
        case .tooManySteps: "too_many_steps"
        case .ioFailure: "io_failure"
        }
    }

    /// One human sentence, safe to show.
    public var message: String {
        switch self {
        case .invalidRegex(let reason): "The regular expression is invalid: \(reason)."
        case .regexTimeout(let budget):
            "The regular expression could not be applied to a single line within its \(budget) budget; simplify it or narrow the query."
        case .executionNotFound(let execution): "No log is stored for execution \(execution)."
        case .invalidRange(let length): "The requested byte range is outside the log (\(length) bytes)."
        case .invalidQuery(let field, let reason): "Query parameter \(field) \(reason)."
        case .tooManySteps(let execution):
            "Execution \(execution) has more than \(LogStore.maximumStepsPerExecution) steps."
        case .ioFailure(let reason): "Log storage failed: \(reason)."
        }
    }

    /// Machine-readable context.
    public var details: [String: String] {
        switch self {
        case .invalidRegex(let reason): ["reason": reason]
        case .regexTimeout(let budget): ["budget_s": String(budget.seconds)]
        case .executionNotFound(let execution): ["execution": String(execution)]
        case .invalidRange(let length): ["length": String(length)]
        case .invalidQuery(let field, let reason): ["field": field, "reason": reason]
        case .tooManySteps(let execution): ["execution": String(execution)]
        case .ioFailure: [:]
        }
    }
}
