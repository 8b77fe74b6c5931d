/// One fixed-width record of an execution's `index` file: where line `seq` lives in `data`.
///
/// Layout, 16 bytes, little-endian, record `seq - 1` at file offset `(seq - 1) * 16`:
///
/// | Bytes | Field |
/// |---|---|
/// | 0–7 | byte offset of the line in `data` (UInt64) |
/// | 8–11 | length of the line in bytes, without the `\n` (UInt32, ≤ 1 MiB) |
/// | 12–13 | step number, an index into `steps.json` (UInt16) |
/// | 14 | level rank: 0 none, 1 DEBUG, 2 INFO, 3 WARN, 4 ERROR |
/// | 15 | flags (``Flags``) |
struct IndexEntry: Equatable {
    static let size = 16

    /// Bits of the flags byte.
    enum Flags {
        /// A `\n` follows the line in `data`.
        static let newline: UInt8 = 0x01
        /// The next piece of the same step continues this one.
        static let continuesOnNextLine: UInt8 = 0x02
        /// This piece continues the previous piece of the same step.
        static let continuation: UInt8 = 0x04
        /// The line contains `ESC` (0x1B): matching must strip escapes first.
        static let escape: UInt8 = 0x08
        /// The line ends with `\r` (CRLF): matching ignores that byte.
        static let trailingCR: UInt8 = 0x10
    }

    var offset: Int64
    var length: Int
    var step: UInt16
    var level: UInt8
    var flags: UInt8

    /// Offset just past the line and its `\n`.
    var end: Int64 { offset + Int64(length) + Int64(flags & Flags.newline) }

    @inline(__always)
    init(offset: Int64, length: Int, step: UInt16, level: UInt8, flags: UInt8) {
        self.offset = offset
        self.length = length
        self.step = step
        self.level = level
        self.flags = flags
    }

    @inline(__always)
    init(_ raw: UnsafeRawPointer) {
        offset = Int64(UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)))
        length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        step = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 12, as: UInt16.self))
        level = raw.load(fromByteOffset: 14, as: UInt8.self)
        flags = raw.load(fromByteOffset: 15, as: UInt8.self)
    }

    @inline(__always)
    func append(to buffer: inout [UInt8]) {
        // One 16-byte append: a tuple of these types is laid out without padding.
        let record = (UInt64(offset).littleEndian, UInt32(length).littleEndian, step.littleEndian, level, flags)
        withUnsafeBytes(of: record) { buffer.append(contentsOf: $0) }
    }
}
