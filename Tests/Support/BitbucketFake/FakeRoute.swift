/// One endpoint of the fake: method, path pattern (after `/2.0`), required legacy scope and handler.
///
/// New endpoint families (pipelines, steps, logs, config) add routes in their own
/// `FakeBitbucketBackend+<Family>.swift` file and list them in ``FakeBitbucketBackend/allRoutes``.
struct FakeRoute: Sendable {
    enum Segment: Sendable {
        /// Exactly this decoded segment.
        case literal(String)
        /// Any one segment, captured.
        case parameter
        /// One or more remaining segments, captured joined with `/`.
        case rest
        /// Zero or more remaining segments, captured joined with `/` (may be empty).
        case optionalRest
    }

    typealias Handler = @Sendable (isolated FakeBitbucketBackend, FakeRequest, [String]) -> FakeResponse

    var method: String
    var pattern: [Segment]
    /// Legacy scope required (the scopes of https://developer.atlassian.com/cloud/bitbucket/rest/intro/), or `nil`.
    var scope: String?
    var handler: Handler

    init(_ method: String, _ pattern: [Segment], scope: String?, handler: @escaping Handler) {
        self.method = method
        self.pattern = pattern
        self.scope = scope
        self.handler = handler
    }

    /// Captured values when `segments` match the pattern.
    func match(_ segments: [String]) -> [String]? {
        var captures: [String] = []
        var index = 0
        for (position, segment) in pattern.enumerated() {
            switch segment {
            case .literal(let literal):
                guard index < segments.count, segments[index] == literal else { return nil }
                index += 1
            case .parameter:
                guard index < segments.count else { return nil }
                captures.append(segments[index])
                index += 1
            case .rest, .optionalRest:
                guard position == pattern.count - 1 else { return nil }
                if case .rest = segment, index >= segments.count { return nil }
                captures.append(segments[index...].joined(separator: "/"))
                index = segments.count
            }
        }
        return index == segments.count ? captures : nil
    }
}

extension FakeRoute.Segment: ExpressibleByStringLiteral {
    init(stringLiteral value: String) { self = .literal(value) }
}
