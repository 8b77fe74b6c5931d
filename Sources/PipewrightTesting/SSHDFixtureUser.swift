import PipewrightCore

/// A throwaway local account created by ``SSHDFixture`` (`useradd -m -s /bin/sh`), with a random
/// password, deleted again by ``SSHDFixture/stop()``.
public struct SSHDFixtureUser: Sendable, Hashable {
    /// Account name, `pwt_` plus 10 random lowercase hex digits.
    public let name: String
    /// Random 24-character password set with `chpasswd`.
    public let password: Secret<String>
    /// Home directory (from the passwd database), created 0755 by `useradd -m`.
    public let home: String
    /// Numeric user id.
    public let uid: UInt32
    /// Numeric primary group id.
    public let gid: UInt32

    /// Creates a user description (the fixture creates the account itself).
    ///
    /// - Parameters:
    ///   - name: Account name.
    ///   - password: Its password.
    ///   - home: Home directory.
    ///   - uid: User id.
    ///   - gid: Primary group id.
    public init(name: String, password: Secret<String>, home: String, uid: UInt32, gid: UInt32) {
        self.name = name
        self.password = password
        self.home = home
        self.uid = uid
        self.gid = gid
    }

    /// `~/.ssh/authorized_keys` of this user.
    public var authorizedKeysPath: String { "\(home)/.ssh/authorized_keys" }

    /// Users are equal when their account names are.
    public static func == (lhs: SSHDFixtureUser, rhs: SSHDFixtureUser) -> Bool { lhs.name == rhs.name }
    /// Hashes the account name.
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}
