/// Removes terminal escape sequences (ECMA-48 / ISO 6429) from a line so it can be matched and highlighted.
///
/// Storage keeps every byte; only matching, level detection, timestamps and ``LogLine/plainText`` use the
/// stripped form. Removed (7-bit forms, as CI tools emit them):
///
/// | Sequence | Bytes | Example |
/// |---|---|---|
/// | CSI (colours, cursor moves) | `ESC [` parameters `0x30–0x3F`*, intermediates `0x20–0x2F`*, final `0x40–0x7E` | `ESC[31m`, `ESC[2K` |
/// | OSC (titles, hyperlinks) | `ESC ]` … terminated by `BEL` or `ESC \` (or the end of the line) | `ESC]0;title BEL` |
/// | DCS, SOS, PM, APC | `ESC P` / `ESC X` / `ESC ^` / `ESC _` … `ESC \` | |
/// | nF (charset selection) | `ESC` intermediates `0x20–0x2F`+ final `0x30–0x7E` | `ESC(B` |
/// | Fp/Fe/Fs two-byte | `ESC` `0x30–0x7E` | `ESC=`, `ESC7` |
///
/// A lone `ESC` at the end of a line is dropped. Carriage returns (`\r`) and all other bytes are kept.
/// The 8-bit C1 form (`0x9B`) is not treated as CSI because in UTF-8 text it is a continuation byte.
public enum ANSIStripper {
    /// The escape byte, `0x1B`.
    static let escape: UInt8 = 0x1B

    /// Returns `text` without escape sequences.
    ///
    /// - Parameter bytes: one line's raw bytes.
    /// - Returns: the bytes with every sequence in the table above removed.
    public static func strip(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        bytes.withUnsafeBufferPointer { strip($0, into: &output) }
        return output
    }

    /// Appends the stripped form of `input` to `output` (which is emptied first).
    static func strip(_ input: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        output.removeAll(keepingCapacity: true)
        output.reserveCapacity(input.count)
        let n = input.count
        var i = 0
        while i < n {
            let byte = input[i]
            if byte != escape {
                output.append(byte)
                i += 1
                continue
            }
            i = endOfSequence(input, at: i)
        }
    }

    /// Index just past the escape sequence starting at `start` (where `input[start] == ESC`).
    static func endOfSequence(_ input: UnsafeBufferPointer<UInt8>, at start: Int) -> Int {
        let n = input.count
        var i = start + 1
        guard i < n else { return n }
        let introducer = input[i]
        switch introducer {
        case UInt8(ascii: "["):
            i += 1
            while i < n, (0x30...0x3F).contains(input[i]) { i += 1 }
            while i < n, (0x20...0x2F).contains(input[i]) { i += 1 }
            if i < n, (0x40...0x7E).contains(input[i]) { i += 1 }
            return i
        case UInt8(ascii: "]"), UInt8(ascii: "P"), UInt8(ascii: "X"), UInt8(ascii: "^"), UInt8(ascii: "_"):
            i += 1
            while i < n {
                if input[i] == 0x07 { return i + 1 }
                if input[i] == escape {
                    if i + 1 < n, input[i + 1] == UInt8(ascii: "\\") { return i + 2 }
                    return i
                }
                i += 1
            }
            return n
        case 0x20...0x2F:
            while i < n, (0x20...0x2F).contains(input[i]) { i += 1 }
            if i < n, (0x30...0x7E).contains(input[i]) { i += 1 }
            return i
        case 0x30...0x7E:
            return i + 1
        default:
            return i
        }
    }
}
