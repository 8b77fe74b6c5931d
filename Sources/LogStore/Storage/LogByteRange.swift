/// A byte range of a raw log, as an HTTP `Range: bytes=…` header states it (RFC 9110 §14.1.2).
public enum LogByteRange: Sendable, Equatable {
    /// `bytes=first-last`: both inclusive; a `last` beyond the end means "to the end".
    case bounded(first: Int64, last: Int64)
    /// `bytes=first-`: from `first` to the end.
    case from(Int64)
    /// `bytes=-length`: the last `length` bytes (the whole log when it is shorter).
    case suffix(length: Int64)

    /// The half-open range this selects in a log of `length` bytes.
    ///
    /// - Parameter length: the raw log's size in bytes.
    /// - Returns: a non-empty range within `0..<length`.
    /// - Throws: ``LogStoreError/invalidRange(length:)`` when unsatisfiable (first beyond the end,
    ///   `last < first`, a zero-length suffix, or an empty log) — HTTP 416.
    public func resolve(length: Int64) throws(LogStoreError) -> Range<Int64> {
        switch self {
        case .bounded(let first, let last):
            guard first >= 0, last >= first, first < length else { throw .invalidRange(length: length) }
            return first..<min(last + 1, length)
        case .from(let first):
            guard first >= 0, first < length else { throw .invalidRange(length: length) }
            return first..<length
        case .suffix(let count):
            guard count > 0, length > 0 else { throw .invalidRange(length: length) }
            return max(0, length - count)..<length
        }
    }
}
