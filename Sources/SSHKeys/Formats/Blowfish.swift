/// The Blowfish block cipher state with the "eksblowfish" key schedule used by bcrypt and by
/// OpenBSD's `bcrypt_pbkdf` (`lib/libc/crypt/blowfish.c`: `Blowfish_initstate`,
/// `Blowfish_expandstate`, `Blowfish_expand0state`, `Blowfish_encipher`).
///
/// Internal: only ``BcryptPBKDF`` uses it. The initial state is the fractional hex digits of pi
/// (`Blowfish+Constants.swift`).
struct Blowfish {
    /// The 18-word P-array.
    private var p: [UInt32]
    /// The four 256-word S-boxes, concatenated.
    private var s: [UInt32]

    /// The initial (pi-derived) state, before any key expansion (`Blowfish_initstate`).
    init() {
        p = Blowfish.initialP
        s = Blowfish.initialS
    }

    /// Classic Blowfish key schedule for a plain key (used only to check the cipher against the
    /// published Schneier test vectors): `Blowfish_expand0state` once.
    init(key: [UInt8]) {
        self.init()
        expand0State(key: key)
    }

    /// Reads a 32-bit big-endian word from `data`, wrapping around cyclically (`Blowfish_stream2word`).
    @inline(__always)
    private static func streamToWord(_ data: UnsafeBufferPointer<UInt8>, _ position: inout Int) -> UInt32 {
        var word: UInt32 = 0
        for _ in 0..<4 {
            if position >= data.count { position = 0 }
            word = (word << 8) | UInt32(data[position])
            position += 1
        }
        return word
    }

    /// Encrypts one 64-bit block given as two 32-bit halves (`Blowfish_encipher`).
    @inline(__always)
    private static func encipher(
        _ left: inout UInt32, _ right: inout UInt32,
        p: UnsafeMutableBufferPointer<UInt32>, s: UnsafeMutableBufferPointer<UInt32>
    ) {
        var xl = left ^ p[0]
        var xr = right
        var round = 1
        while round <= 16 {
            let f1 =
                ((s[Int(xl >> 24)] &+ s[0x100 | Int((xl >> 16) & 0xFF)]) ^ s[0x200 | Int((xl >> 8) & 0xFF)])
                &+ s[0x300 | Int(xl & 0xFF)]
            xr ^= f1 ^ p[round]
            let f2 =
                ((s[Int(xr >> 24)] &+ s[0x100 | Int((xr >> 16) & 0xFF)]) ^ s[0x200 | Int((xr >> 8) & 0xFF)])
                &+ s[0x300 | Int(xr & 0xFF)]
            xl ^= f2 ^ p[round + 1]
            round += 2
        }
        left = xr ^ p[17]
        right = xl
    }

    /// Encrypts one block (two big-endian words) in place.
    mutating func encrypt(_ left: inout UInt32, _ right: inout UInt32) {
        p.withUnsafeMutableBufferPointer { p in
            s.withUnsafeMutableBufferPointer { s in
                Blowfish.encipher(&left, &right, p: p, s: s)
            }
        }
    }

    /// Encrypts `words` (pairs of words, in place) `times` times each pass over all blocks
    /// (`blf_enc` called in a loop, as in `bcrypt_hash`).
    mutating func encrypt(words: inout [UInt32], times: Int) {
        p.withUnsafeMutableBufferPointer { p in
            s.withUnsafeMutableBufferPointer { s in
                for _ in 0..<times {
                    var index = 0
                    while index + 1 < words.count {
                        var left = words[index]
                        var right = words[index + 1]
                        Blowfish.encipher(&left, &right, p: p, s: s)
                        words[index] = left
                        words[index + 1] = right
                        index += 2
                    }
                }
            }
        }
    }

    /// Salted key expansion (`Blowfish_expandstate(state, data, key)`).
    mutating func expandState(data: [UInt8], key: [UInt8]) {
        p.withUnsafeMutableBufferPointer { p in
            s.withUnsafeMutableBufferPointer { s in
                data.withUnsafeBufferPointer { data in
                    key.withUnsafeBufferPointer { key in
                        Blowfish.expand(p: p, s: s, key: key, data: data)
                    }
                }
            }
        }
    }

    /// Unsalted key expansion (`Blowfish_expand0state(state, key)`).
    mutating func expand0State(key: [UInt8]) {
        p.withUnsafeMutableBufferPointer { p in
            s.withUnsafeMutableBufferPointer { s in
                key.withUnsafeBufferPointer { key in
                    Blowfish.expand(p: p, s: s, key: key, data: nil)
                }
            }
        }
    }

    private static func expand(
        p: UnsafeMutableBufferPointer<UInt32>, s: UnsafeMutableBufferPointer<UInt32>,
        key: UnsafeBufferPointer<UInt8>, data: UnsafeBufferPointer<UInt8>?
    ) {
        var position = 0
        for index in 0..<18 {
            p[index] ^= streamToWord(key, &position)
        }
        var left: UInt32 = 0
        var right: UInt32 = 0
        var dataPosition = 0
        var index = 0
        while index < 18 {
            if let data {
                left ^= streamToWord(data, &dataPosition)
                right ^= streamToWord(data, &dataPosition)
            }
            encipher(&left, &right, p: p, s: s)
            p[index] = left
            p[index + 1] = right
            index += 2
        }
        index = 0
        while index < 1024 {
            if let data {
                left ^= streamToWord(data, &dataPosition)
                right ^= streamToWord(data, &dataPosition)
            }
            encipher(&left, &right, p: p, s: s)
            s[index] = left
            s[index + 1] = right
            index += 2
        }
    }
}
