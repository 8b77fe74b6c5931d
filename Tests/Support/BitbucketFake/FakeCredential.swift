/// A credential the fake accepts, with its granted legacy scopes (`nil` = everything).
struct FakeCredential: Sendable {
    enum Kind: Sendable, Equatable {
        /// `Basic base64(username:secret)` (API token with e-mail, or app password with username).
        case basic(username: String, secret: String)
        /// `Bearer token` (access token / OAuth).
        case bearer(token: String)
    }

    var id: String
    var kind: Kind
    var scopes: Set<String>?
    var user: FakeUser

    /// The scopes implied by `granted` (scope notes of https://developer.atlassian.com/cloud/bitbucket/rest/intro/):
    /// `x:write` ⇒ `x`, `pullrequest` ⇒ `repository`, `pullrequest:write` ⇒ `repository:write`,
    /// `pipeline:write`/`pipeline:variable` ⇒ `pipeline`.
    static func expand(_ granted: Set<String>) -> Set<String> {
        var result = granted
        var changed = true
        while changed {
            changed = false
            for scope in result {
                var implied: [String] = []
                if scope.hasSuffix(":write") || scope == "pipeline:variable" {
                    implied.append(String(scope.split(separator: ":")[0]))
                }
                if scope == "pullrequest" { implied.append("repository") }
                if scope == "pullrequest:write" { implied.append("repository:write") }
                for scope in implied where !result.contains(scope) {
                    result.insert(scope)
                    changed = true
                }
            }
        }
        return result
    }
}
