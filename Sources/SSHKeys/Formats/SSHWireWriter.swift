/// Appends SSH wire-format values (RFC 4251 §5: `uint32`, `string`, `mpint`) to a byte buffer.
///
/// Internal helper for public-key blobs (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4) and the
/// openssh-key-v1 container (OpenSSH `PROTOCOL.key`).
struct SSHWireWriter {
    /// The bytes written so far.
    private(set) var bytes: [UInt8] = []

    /// Appends a big-endian `uint32`.
    mutating func writeUInt32(_ value: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    /// Appends a `string`: `uint32` length followed by the raw bytes.
    mutating func writeString(_ value: some Collection<UInt8>) {
        writeUInt32(UInt32(value.count))
        bytes.append(contentsOf: value)
    }

    /// Appends a UTF-8 `string`.
    mutating func writeString(_ value: String) {
        writeString(Array(value.utf8))
    }

    /// Appends an `mpint` from an unsigned big-endian magnitude: leading zeros are stripped and a
    /// `0x00` is prepended when the high bit is set (RFC 4251 §5).
    mutating func writeMPInt(unsigned magnitude: some Collection<UInt8>) {
        var trimmed = Array(magnitude.drop { $0 == 0 })
        if let first = trimmed.first, first & 0x80 != 0 {
            trimmed.insert(0, at: 0)
        }
        writeString(trimmed)
    }

    /// Appends raw bytes without a length prefix.
    mutating func writeRaw(_ value: some Collection<UInt8>) {
        bytes.append(contentsOf: value)
    }
}
