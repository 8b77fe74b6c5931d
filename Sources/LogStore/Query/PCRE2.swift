#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// PCRE2 (8-bit, with its JIT) loaded at run time from `libpcre2-8.so.0`, without headers or link-time
/// dependency.
///
/// Debian installs the library on every machine (grep, systemd and git depend on it) but not its headers, and
/// `swift run pipewright serve` must build on a fresh machine; so the few functions used are declared here
/// with the signatures of `pcre2.h` (PCRE2 ≥ 10.34 for `PCRE2_MATCH_INVALID_UTF`) and looked up with `dlsym`.
/// When the library is absent the query engine uses `NSRegularExpression` (ICU) instead; see docs/log-search.md.
struct PCRE2Library: @unchecked Sendable {
    // @unchecked: C function pointers into a library that stays loaded for the life of the process.
    typealias Compile =
        @convention(c) (
            UnsafePointer<UInt8>?, Int, UInt32, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int>?, OpaquePointer?
        ) -> OpaquePointer?
    typealias JITCompile = @convention(c) (OpaquePointer?, UInt32) -> Int32
    typealias CodeFree = @convention(c) (OpaquePointer?) -> Void
    typealias ContextCreate = @convention(c) (OpaquePointer?) -> OpaquePointer?
    typealias ContextFree = @convention(c) (OpaquePointer?) -> Void
    typealias SetNewline = @convention(c) (OpaquePointer?, UInt32) -> Int32
    typealias MatchDataCreate = @convention(c) (OpaquePointer?, OpaquePointer?) -> OpaquePointer?
    typealias MatchDataFree = @convention(c) (OpaquePointer?) -> Void
    typealias Match =
        @convention(c) (
            OpaquePointer?, UnsafePointer<UInt8>?, Int, Int, UInt32, OpaquePointer?, OpaquePointer?
        ) -> Int32
    typealias OvectorPointer = @convention(c) (OpaquePointer?) -> UnsafeMutablePointer<Int>?

    // Constants of pcre2.h.
    static let caseless: UInt32 = 0x0000_0008
    static let ucp: UInt32 = 0x0002_0000
    static let utf: UInt32 = 0x0008_0000
    static let matchInvalidUTF: UInt32 = 0x0400_0000
    static let jitComplete: UInt32 = 0x0000_0001
    /// `PCRE2_NEWLINE_ANY`: `.` and `$` treat CR, LF, VT, FF, NEL, LS and PS as line terminators, as ICU does.
    static let newlineAny: UInt32 = 4
    static let errorNoMatch: Int32 = -1

    let compile: Compile
    let jitCompile: JITCompile
    let codeFree: CodeFree
    let compileContextCreate: ContextCreate
    let compileContextFree: ContextFree
    let setNewline: SetNewline
    let matchDataCreate: MatchDataCreate
    let matchDataFree: MatchDataFree
    let match: Match
    let ovectorPointer: OvectorPointer

    /// The process-wide library, or `nil` when `libpcre2-8.so.0` cannot be loaded.
    static let shared: PCRE2Library? = load()

    static func load() -> PCRE2Library? {
        let names = ["libpcre2-8.so.0", "libpcre2-8.so", "libpcre2-8.0.dylib", "/opt/homebrew/lib/libpcre2-8.0.dylib"]
        guard let handle = names.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first else { return nil }
        func symbol<T>(_ name: String, as type: T.Type) -> T? {
            guard let pointer = dlsym(handle, name) else { return nil }
            return unsafeBitCast(pointer, to: type)
        }
        guard let compile = symbol("pcre2_compile_8", as: Compile.self),
            let jitCompile = symbol("pcre2_jit_compile_8", as: JITCompile.self),
            let codeFree = symbol("pcre2_code_free_8", as: CodeFree.self),
            let compileContextCreate = symbol("pcre2_compile_context_create_8", as: ContextCreate.self),
            let compileContextFree = symbol("pcre2_compile_context_free_8", as: ContextFree.self),
            let setNewline = symbol("pcre2_set_newline_8", as: SetNewline.self),
            let matchDataCreate = symbol("pcre2_match_data_create_from_pattern_8", as: MatchDataCreate.self),
            let matchDataFree = symbol("pcre2_match_data_free_8", as: MatchDataFree.self),
            let match = symbol("pcre2_match_8", as: Match.self),
            let ovectorPointer = symbol("pcre2_get_ovector_pointer_8", as: OvectorPointer.self)
        else { return nil }
        return PCRE2Library(
            compile: compile, jitCompile: jitCompile, codeFree: codeFree, compileContextCreate: compileContextCreate,
            compileContextFree: compileContextFree, setNewline: setNewline, matchDataCreate: matchDataCreate,
            matchDataFree: matchDataFree, match: match, ovectorPointer: ovectorPointer)
    }
}

/// A compiled (and JIT-compiled when possible) PCRE2 pattern. Matching is thread-safe; each thread brings
/// its own ``MatchData``.
final class PCRE2Regex: @unchecked Sendable {
    // @unchecked: `code` is immutable after compilation; PCRE2 allows concurrent matches on one code.
    let library: PCRE2Library
    private let code: OpaquePointer

    /// How one attempt ended.
    enum Outcome: Equatable {
        /// A match at these byte offsets.
        case match(Range<Int>)
        case noMatch
        /// PCRE2 gave up (match, depth, heap or JIT stack limit): the caller decides by other means.
        case undecided
    }

    /// Per-thread match state.
    final class MatchData {
        let library: PCRE2Library
        let pointer: OpaquePointer

        fileprivate init?(library: PCRE2Library, code: OpaquePointer) {
            guard let pointer = library.matchDataCreate(code, nil) else { return nil }
            self.library = library
            self.pointer = pointer
        }

        deinit { library.matchDataFree(pointer) }
    }

    /// Compiles `pattern` with UTF, Unicode properties (`\w`, `\b`, `\d` beyond ASCII), invalid UTF-8
    /// tolerated in subjects, and ICU's set of line terminators; `nil` when the library is missing or
    /// PCRE2 does not accept the pattern.
    init?(pattern: String, caseInsensitive: Bool, library: PCRE2Library? = PCRE2Library.shared) {
        guard let library else { return nil }
        self.library = library
        let context = library.compileContextCreate(nil)
        defer { library.compileContextFree(context) }
        _ = library.setNewline(context, PCRE2Library.newlineAny)
        var options = PCRE2Library.utf | PCRE2Library.ucp | PCRE2Library.matchInvalidUTF
        if caseInsensitive { options |= PCRE2Library.caseless }
        var error: Int32 = 0
        var offset = 0
        let bytes = Array(pattern.utf8)
        let compiled = bytes.withUnsafeBufferPointer { buffer in
            library.compile(buffer.baseAddress, buffer.count, options, &error, &offset, context)
        }
        guard let compiled else { return nil }
        code = compiled
        // Without the JIT (a platform it does not support) pcre2_match interprets; still correct.
        _ = library.jitCompile(compiled, PCRE2Library.jitComplete)
    }

    deinit { library.codeFree(code) }

    func makeMatchData() -> MatchData? { MatchData(library: library, code: code) }

    /// The first match in `subject[start..<count]` (offsets relative to `subject`).
    @inline(__always)
    func firstMatch(in subject: UnsafePointer<UInt8>, count: Int, from start: Int = 0, using data: MatchData) -> Outcome
    {
        let rc = library.match(code, subject, count, start, 0, data.pointer, nil)
        if rc == PCRE2Library.errorNoMatch { return .noMatch }
        guard rc >= 0, let ovector = library.ovectorPointer(data.pointer) else { return .undecided }
        return .match(ovector[0]..<max(ovector[0], ovector[1]))
    }

    /// Non-empty match ranges (bytes) in `subject`, left to right; `nil` when PCRE2 gave up.
    func allMatches(in subject: UnsafeBufferPointer<UInt8>, using data: MatchData) -> [Range<Int>]? {
        guard let base = subject.baseAddress else { return [] }
        var ranges: [Range<Int>] = []
        var position = 0
        while position <= subject.count {
            switch firstMatch(in: base, count: subject.count, from: position, using: data) {
            case .noMatch:
                return ranges
            case .undecided:
                return nil
            case .match(let range):
                if range.isEmpty {
                    // Step over one whole UTF-8 character.
                    position = range.lowerBound + 1
                    while position < subject.count, subject[position] & 0xC0 == 0x80 { position += 1 }
                } else {
                    ranges.append(range)
                    position = range.upperBound
                }
            }
        }
        return ranges
    }
}
