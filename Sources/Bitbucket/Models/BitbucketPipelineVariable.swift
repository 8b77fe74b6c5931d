import PipewrightCore

/// A variable passed to a triggered pipeline (`variables[]` of `POST …/pipelines/`, Bitbucket REST docs below).
///
/// The value travels as a ``Secret`` so neither `description` nor logs ever show it; `secured: true`
/// also makes Bitbucket mask it in build logs and return it empty.
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-post
public struct BitbucketPipelineVariable: Sendable, Equatable, Encodable, CustomStringConvertible {
    /// Variable name (`[A-Za-z_][A-Za-z0-9_]*` by Bitbucket's rules; not validated here).
    public var key: String
    /// The value (read only when encoding the request body).
    public var value: Secret<String>
    /// Whether Bitbucket treats the value as secret.
    public var secured: Bool

    /// A plain variable (`secured` defaults to `false`).
    public init(key: String, value: String, secured: Bool = false) {
        self.key = key
        self.value = Secret(value)
        self.secured = secured
    }

    /// A variable from a secret (`secured` defaults to `true`).
    public init(key: String, secret: Secret<String>, secured: Bool = true) {
        self.key = key
        self.value = secret
        self.secured = secured
    }

    /// `key=<redacted>` (secured) — the value is never shown.
    public var description: String { "\(key)=<redacted>\(secured ? " (secured)" : "")" }

    enum CodingKeys: String, CodingKey { case key, value, secured }

    /// Encodes `{"key", "value", "secured"}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(value.value, forKey: .value)
        try container.encode(secured, forKey: .secured)
    }
}
