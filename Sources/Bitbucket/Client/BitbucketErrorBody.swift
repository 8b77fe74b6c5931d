import Foundation

/// A tolerant reading of a Bitbucket error body
/// (https://developer.atlassian.com/cloud/bitbucket/rest/intro/#standardized-error-responses).
///
/// Handles the standard envelope `{"type":"error","error":{"message","fields","detail","data"}}`,
/// envelopes without `type`, `detail` as a string **or** an object (`{"required": [...], "granted": [...]}`
/// on missing scopes), and non-JSON bodies (`text/plain` 401 and 429): then `message` is the first
/// non-empty line of the text.
struct BitbucketErrorBody: Equatable {
    var message: String?
    var detail: String?
    var fields: [String: [String]] = [:]
    var requiredScopes: [String] = []

    init(message: String? = nil, detail: String? = nil, fields: [String: [String]] = [:], requiredScopes: [String] = [])
    {
        self.message = message
        self.detail = detail
        self.fields = fields
        self.requiredScopes = requiredScopes
    }

    /// Parses `body`; never throws (unknown shapes give an empty value or the text's first line).
    init(body: [UInt8]) {
        if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
            let error = object["error"] as? [String: Any] ?? object
            message = error["message"] as? String
            switch error["detail"] {
            case let text as String:
                detail = text
            case let object as [String: Any]:
                requiredScopes = object["required"] as? [String] ?? []
            default:
                break
            }
            if let fields = error["fields"] as? [String: Any] {
                for (name, value) in fields {
                    switch value {
                    case let list as [Any]: self.fields[name] = list.map { "\($0)" }
                    case let text as String: self.fields[name] = [text]
                    default: self.fields[name] = ["\(value)"]
                    }
                }
            }
        } else {
            let text = String(decoding: body.prefix(2048), as: UTF8.self)
            message = text.split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .first { !$0.isEmpty }
        }
    }

    /// `message` and `detail` joined as one sentence (or `fallback`).
    func summary(fallback: String) -> String {
        switch (message, detail) {
        case (let message?, let detail?) where !detail.isEmpty && detail != message:
            "\(message): \(detail)"
        case (let message?, _) where !message.isEmpty:
            message
        case (_, let detail?) where !detail.isEmpty:
            detail
        default:
            fallback
        }
    }
}
