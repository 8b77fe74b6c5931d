import Foundation

/// A failure the fake injects into the next requests (``FakeBitbucketServer/failNext(_:with:)``).
public enum FakeFailure: Sendable, Equatable {
    /// `429` `text/plain` "Rate limit for this resource has been exceeded", no `Retry-After`.
    case tooManyRequests
    /// `500` JSON error envelope.
    case serverError
    /// `401` `text/plain` login failure with `www-authenticate`.
    case unauthorized
}

/// The account a credential authenticates as (`GET /user`).
public struct FakeUser: Sendable, Equatable {
    /// Braced UUID.
    public var uuid: String
    /// Display name.
    public var displayName: String
    /// Nickname.
    public var nickname: String
    /// Atlassian account id.
    public var accountID: String

    /// Creates a user; omitted values are generated.
    public init(uuid: String = FakeIdentifiers.uuid(), displayName: String, nickname: String, accountID: String? = nil)
    {
        self.uuid = uuid
        self.displayName = displayName
        self.nickname = nickname
        self.accountID = accountID ?? "557058:" + FakeIdentifiers.uuid().dropFirst().dropLast()
    }

    var json: FakeJSON {
        [
            "type": "user", "uuid": .string(uuid), "display_name": .string(displayName),
            "nickname": .string(nickname), "account_id": .string(accountID),
            "links": ["self": ["href": .string("https://api.bitbucket.org/2.0/users/" + FakeIdentifiers.encode(uuid))]],
        ]
    }
}

/// One snapshot commit in a fake repository.
public struct FakeCommit: Sendable, Equatable {
    /// 40 hex digits.
    public var hash: String
    /// Parent hashes (empty for a root commit).
    public var parents: [String]
    /// Commit message.
    public var message: String
    /// `Name <email>`.
    public var author: String
    /// ISO-8601 date.
    public var date: String
    /// Full file tree: path (no leading `/`) → contents.
    public var files: [String: [UInt8]]
    /// Paths with the executable bit.
    public var executables: Set<String>
}

/// A pull request in a fake repository.
public struct FakePullRequest: Sendable, Equatable {
    /// Repository-local id.
    public var id: Int
    /// Title.
    public var title: String
    /// Description.
    public var description: String
    /// `OPEN`, `MERGED`, `DECLINED`, `SUPERSEDED`.
    public var state: String
    /// Source branch name.
    public var sourceBranch: String
    /// Destination branch name.
    public var destinationBranch: String
    /// Delete source branch on merge.
    public var closeSourceBranch: Bool
    /// ISO-8601 creation date.
    public var createdOn: String
}

/// Generators for braced UUIDs and commit hashes, and percent-encoding of braces.
public enum FakeIdentifiers {
    /// `{xxxxxxxx-xxxx-…}` in lower case.
    public static func uuid() -> String { "{" + UUID().uuidString.lowercased() + "}" }

    /// 40 random hex digits.
    public static func commitHash() -> String {
        var generator = SystemRandomNumberGenerator()
        var result = ""
        while result.count < 40 { result += String(format: "%016llx", generator.next() as UInt64) }
        return String(result.prefix(40))
    }

    /// `{`→`%7B`, `}`→`%7D` (for links).
    public static func encode(_ uuid: String) -> String {
        uuid.replacingOccurrences(of: "{", with: "%7B").replacingOccurrences(of: "}", with: "%7D")
    }

    /// Now, ISO-8601 with `+00:00`.
    public static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date()).replacingOccurrences(of: "Z", with: "+00:00")
    }
}
