/// A value that must never be printed, logged or encoded by accident.
///
/// `description`, `debugDescription` and `dump` show `<redacted>`. Read the value only where it is used
/// (`secret.value`), never to build a message.
///
/// - Important: plaintext secrets (passwords, passphrases, private keys, tokens) travel inside `Secret`
///   from the moment they are decoded from a request until they are written to a 0600 file or sealed.
public struct Secret<Value: Sendable>: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The wrapped plaintext. Read it only at the point of use.
    public let value: Value

    /// Wraps `value`.
    public init(_ value: Value) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

extension Secret: Equatable where Value: Equatable {}
