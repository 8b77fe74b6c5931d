/// Finds an ASCII-case-folded (or exact) byte string in a buffer, 16 candidate positions at a time.
///
/// Two probe bytes of the needle (the rarest by a fixed English/log frequency ranking) are compared at 16
/// positions per step with SIMD; only positions where both probes match are verified byte by byte
/// (W. Muła's "SIMD-friendly generic substring search"). Case folding ORs `0x20` into bytes compared with
/// an ASCII letter, which maps exactly `A–Z` onto `a–z` for those comparisons.
struct ByteSearcher: Sendable {
    let needle: [UInt8]
    /// `0x20` where the needle byte is a letter and the search ignores case, else 0.
    let folds: [UInt8]
    let probe1: Int
    let probe2: Int

    init(needle raw: [UInt8], caseInsensitive: Bool) {
        var needle = raw
        var folds = [UInt8](repeating: 0, count: raw.count)
        for i in needle.indices where caseInsensitive && (needle[i] | 0x20) &- 0x61 < 26 {
            needle[i] |= 0x20
            folds[i] = 0x20
        }
        self.needle = needle
        self.folds = folds
        let order = needle.indices.sorted { Self.frequency(needle[$0]) < Self.frequency(needle[$1]) }
        let first = order.first ?? 0
        let second = order.dropFirst().first ?? first
        probe1 = min(first, second)
        probe2 = max(first, second)
    }

    /// Rough frequency rank of a byte in build logs (higher = more common).
    static func frequency(_ byte: UInt8) -> Int {
        let common: [UInt8] = Array(" etaoinsrhldcumfpgwybvkxjqz".utf8)
        let lower = byte | 0x20
        if let rank = common.firstIndex(of: byte == 0x20 ? 0x20 : lower), (lower &- 0x61 < 26 || byte == 0x20) {
            return 100 - rank
        }
        if byte &- 0x30 < 10 { return 60 }
        switch byte {
        case UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: "_"): return 50
        default: return byte < 0x80 ? 30 : 20
        }
    }

    /// First position `p` in `start..<end` where the needle occupies `p..<p+count` ≤ `end`, or `nil`.
    @inline(__always)
    func first(in base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int? {
        needle.withUnsafeBufferPointer { needle in
            folds.withUnsafeBufferPointer { folds in
                // Safe: needles are never empty.
                // swift-format-ignore: NeverForceUnwrap
                search(base, start, end, needle.baseAddress!, folds.baseAddress!, needle.count)
            }
        }
    }

    @inline(__always)
    private func verify(
        _ at: UnsafePointer<UInt8>, _ needle: UnsafePointer<UInt8>, _ folds: UnsafePointer<UInt8>, _ m: Int
    ) -> Bool {
        var k = 0
        while k < m {
            if at[k] | folds[k] != needle[k] { return false }
            k &+= 1
        }
        return true
    }

    private func search(
        _ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ needle: UnsafePointer<UInt8>,
        _ folds: UnsafePointer<UInt8>,
        _ m: Int
    ) -> Int? {
        let last = end - m
        guard m > 0, start <= last else { return nil }
        let p1 = probe1
        let p2 = probe2
        let b1 = SIMD16<UInt8>(repeating: needle[p1])
        let b2 = SIMD16<UInt8>(repeating: needle[p2])
        let f1 = SIMD16<UInt8>(repeating: folds[p1])
        let f2 = SIMD16<UInt8>(repeating: folds[p2])
        var k = start
        let raw = UnsafeRawPointer(base)
        // Vector loop: loads at k + p2 … k + p2 + 15 must stay below `end`.
        while k &+ p2 &+ 16 <= end {
            let a = raw.loadUnaligned(fromByteOffset: k &+ p1, as: SIMD16<UInt8>.self) | f1
            let b = raw.loadUnaligned(fromByteOffset: k &+ p2, as: SIMD16<UInt8>.self) | f2
            let hits = (a .== b1) .& (b .== b2)
            // `any(_:)` is not specialised well; test the 16 mask bytes as two words instead.
            let words = unsafeBitCast(hits, to: SIMD2<UInt64>.self)
            if words[0] | words[1] != 0 {
                for lane in 0..<16 where hits[lane] {
                    let position = k &+ lane
                    if position > last { return nil }
                    if verify(base + position, needle, folds, m) { return position }
                }
            }
            k &+= 16
        }
        while k <= last {
            if base[k &+ p1] | folds[p1] == needle[p1], base[k &+ p2] | folds[p2] == needle[p2],
                verify(base + k, needle, folds, m)
            {
                return k
            }
            k &+= 1
        }
        return nil
    }
}

extension ByteSearcher {
    /// First position in `start..<end` holding a byte ≥ 0x80 (a non-ASCII UTF-8 byte), 16 bytes at a time.
    static func firstNonASCII(in base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int? {
        var k = start
        let raw = UnsafeRawPointer(base)
        while k &+ 16 <= end {
            let block = raw.loadUnaligned(fromByteOffset: k, as: SIMD2<UInt64>.self)
            if (block[0] | block[1]) & 0x8080_8080_8080_8080 != 0 { break }
            k &+= 16
        }
        while k < end {
            if base[k] >= 0x80 { return k }
            k &+= 1
        }
        return nil
    }
}
