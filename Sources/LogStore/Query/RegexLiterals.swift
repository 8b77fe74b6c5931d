/// The literal strings a regular expression's matches must contain, read from the pattern alone.
///
/// A line can only match when it contains one of ``needles``, so the byte searcher finds candidate lines
/// and the regex engine runs on those only. When ``isExact`` is set, containing a needle is also enough:
/// the pattern is a finite set of literal strings (an alternation of literals), and the engine is not
/// needed to decide the line.
///
/// Worked examples (case-insensitive needles are lowercase; the searcher folds ASCII case):
///
/// | Pattern | Needles | Exact |
/// |---|---|---|
/// | `error\|fail(ed\|ure)` | `error`, `failed`, `failure` | yes |
/// | `error\|failed\|failure\|fatal` | more than 3 strings: the 4-byte prefixes `erro`, `fail`, `fata` | no |
/// | `error\|warn` | `error`, `warn` | yes |
/// | `\b[0-9]{3} ms\b` | ` ms` | no |
/// | `^\S+ WARN ` | ` warn ` | no |
/// | `colou?r` | `colour`, `color` | yes |
/// | `(ab)+c` | `ab` | no |
/// | `a.*` | `a` | no |
/// | `\d+`, `x?`, `error\|\d` | none (every line is a candidate) | - |
///
/// Rules: a literal character is a one-string set; a class, `.`, an escape like `\d`, an anchor or a
/// look-around is unknown (it breaks a run of literals); concatenated literal sets multiply (capped at
/// ``maximumSetSize``); an alternation unites its branches (a branch without a requirement removes it);
/// `?` adds the empty string, `*`/`{0,…}` remove the requirement, `+`/`{n,…}` with n ≥ 1 keep the
/// atom's requirement but not its exactness. Among the candidate sets of a concatenation the one with the
/// longest shortest string and the fewest strings wins; a set of more than 3 strings is shortened to common
/// prefixes (a line containing `failed` contains `fail`). Anything the reader does not understand (extended mode
/// `(?x)`, unknown escapes, malformed quantifiers) gives no needles, which is always correct, only slower.
/// Under case-insensitive matching a non-ASCII letter is unknown (the byte searcher folds ASCII only).
struct RegexLiterals: Equatable, Sendable {
    /// A matching line contains at least one of these (UTF-8 strings; lowercase ASCII when case-insensitive).
    /// Empty: no requirement is known, every line is a candidate.
    var needles: [String]
    /// Containing one of ``needles`` is also sufficient for a match.
    var isExact: Bool
    /// The needles must be searched ignoring ASCII case (the query ignores case, or the pattern has inline flags).
    var foldsCase: Bool = false

    /// Most strings in a literal set before it is given up (or shortened).
    static let maximumSetSize = 64
    /// Most needles searched for; each is one pass of the byte searcher over the data.
    static let maximumNeedles = 8

    static let none = RegexLiterals(needles: [], isExact: false)

    /// Reads `pattern` (ICU syntax).
    ///
    /// - Parameters:
    ///   - pattern: the regular expression.
    ///   - caseInsensitive: whether the regex ignores case (needles are then lowercased ASCII).
    /// - Returns: the needles, or ``none`` when nothing useful is known.
    static func analyze(_ pattern: String, caseInsensitive: Bool) -> RegexLiterals {
        var parser = Parser(scalars: Array(pattern.unicodeScalars), caseInsensitive: caseInsensitive)
        guard let info = parser.parseAlternation(depth: 0), parser.position == parser.scalars.count else {
            return .none
        }
        var isExact = !parser.sawFlags
        var set: Set<String>?
        if let exact = info.exact, !exact.contains("") {
            set = exact
        } else {
            isExact = false
            set = info.required
        }
        guard let set, !set.isEmpty, !set.contains("") else { return .none }
        let best = Self.best(of: set)
        if best.shortened { isExact = false }
        guard !best.strings.isEmpty else { return .none }
        return RegexLiterals(needles: best.strings, isExact: isExact, foldsCase: caseInsensitive || parser.sawFlags)
    }

    // MARK: - Choosing needles

    /// At most this many needles are kept as they are; larger sets are shortened to common prefixes.
    static let preferredNeedles = 3

    /// The longest prefix of `string` of at most `bytes` UTF-8 bytes that ends on a character boundary.
    static func prefix(of string: String, bytes: Int) -> String {
        var length = min(bytes, string.utf8.count)
        while length > 0 {
            if let valid = String(validating: string.utf8.prefix(length), as: UTF8.self) { return valid }
            length -= 1
        }
        return ""
    }

    /// Removes strings containing another string of the set (the shorter one finds every line the longer does).
    static func minimized(_ set: Set<String>) -> [String] {
        let sorted = set.sorted { ($0.utf8.count, $0) < ($1.utf8.count, $1) }
        var kept: [String] = []
        for candidate in sorted where !kept.contains(where: { candidate.utf8.contains($0.utf8) }) {
            kept.append(candidate)
        }
        return kept
    }

    /// Higher is better: long shortest needle (up to 4 bytes matters most), few needles.
    static func score(_ strings: [String]) -> Int {
        guard !strings.isEmpty, strings.count <= maximumNeedles else { return Int.min }
        let shortest = strings.map(\.utf8.count).min() ?? 0
        return min(shortest, 4) * 100 - strings.count * 30 + min(shortest, 16)
    }

    /// The set itself when it has at most ``preferredNeedles`` strings (each one byte-searcher pass, and an exact
    /// set decides lines without the engine), else the best of its common-prefix shortenings.
    static func best(of set: Set<String>) -> (strings: [String], shortened: Bool) {
        let full = minimized(set)
        var best = (strings: full, shortened: false)
        var bestScore = score(full)
        if full.count <= preferredNeedles { return best }
        let longest = set.map(\.utf8.count).max() ?? 0
        var length = longest - 1
        while length >= 1 {
            let prefixes = Set(set.map { Self.prefix(of: $0, bytes: length) })
            let candidate = minimized(prefixes)
            let candidateScore = score(candidate)
            if candidateScore > bestScore {
                best = (candidate, true)
                bestScore = candidateScore
            }
            length -= 1
        }
        return bestScore == Int.min ? ([], false) : best
    }

    /// The better of two requirement sets (for a concatenation, either is necessary).
    static func better(_ a: Set<String>?, _ b: Set<String>?) -> Set<String>? {
        guard let a, !a.contains("") else { return b.flatMap { $0.contains("") ? nil : $0 } }
        guard let b, !b.contains("") else { return a }
        return score(best(of: a).strings) >= score(best(of: b).strings) ? a : b
    }
}

// MARK: - Parser

extension RegexLiterals {
    /// What is known about the strings one part of the pattern matches.
    struct Info {
        /// The part matches exactly one of these strings; `nil`: not a small finite set.
        var exact: Set<String>?
        /// Every match of the part contains one of these; `nil`: nothing known.
        var required: Set<String>?

        static let unknown = Info(exact: nil, required: nil)

        /// The requirement, from ``exact`` if known.
        var requirement: Set<String>? {
            if let exact { return exact.contains("") ? nil : exact }
            return required
        }
    }

    /// A recursive-descent reader of the subset of ICU syntax that matters for literals.
    struct Parser {
        let scalars: [Unicode.Scalar]
        let caseInsensitive: Bool
        var position = 0
        /// An inline flag group was seen (treated as case-insensitive everywhere; no exactness claimed).
        var sawFlags = false
        var forcedCaseInsensitive = false

        init(scalars: [Unicode.Scalar], caseInsensitive: Bool) {
            self.scalars = scalars
            self.caseInsensitive = caseInsensitive
        }

        var peek: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

        mutating func parseAlternation(depth: Int) -> Info? {
            guard depth < 64 else { return nil }
            var branches: [Info] = []
            while true {
                guard let branch = parseConcatenation(depth: depth) else { return nil }
                branches.append(branch)
                if peek == "|" {
                    position += 1
                    continue
                }
                break
            }
            if branches.count == 1 { return branches[0] }
            var exact: Set<String>? = []
            var required: Set<String>? = []
            for branch in branches {
                if let e = branch.exact, let current = exact, current.count + e.count <= RegexLiterals.maximumSetSize {
                    exact = current.union(e)
                } else {
                    exact = nil
                }
                if let r = branch.requirement, let current = required,
                    current.count + r.count <= RegexLiterals.maximumSetSize
                {
                    required = current.union(r)
                } else {
                    required = nil
                }
            }
            return Info(exact: exact, required: required)
        }

        mutating func parseConcatenation(depth: Int) -> Info? {
            var items: [Info] = []
            while let scalar = peek, scalar != "|", scalar != ")" {
                guard var atom = parseAtom(depth: depth) else { return nil }
                guard applyQuantifier(to: &atom) else { return nil }
                items.append(atom)
            }
            // Runs of exact items multiply; anything else breaks the run.
            var candidates: [Set<String>] = []
            var run: Set<String>? = [""]
            var allExact = true
            var whole: Set<String>? = [""]
            for item in items {
                if let exact = item.exact {
                    if let current = run, let product = Self.product(current, exact) {
                        run = product
                    } else {
                        if let current = run { candidates.append(current) }
                        run = exact
                    }
                    if let current = whole { whole = Self.product(current, exact) }
                } else {
                    allExact = false
                    if let current = run { candidates.append(current) }
                    run = [""]
                    if let required = item.required { candidates.append(required) }
                }
            }
            if let current = run { candidates.append(current) }
            var required: Set<String>?
            for candidate in candidates { required = RegexLiterals.better(required, candidate) }
            return Info(exact: allExact ? whole : nil, required: required)
        }

        static func product(_ a: Set<String>, _ b: Set<String>) -> Set<String>? {
            guard a.count * b.count <= RegexLiterals.maximumSetSize else { return nil }
            var result: Set<String> = []
            for x in a { for y in b { result.insert(x + y) } }
            guard result.allSatisfy({ $0.utf8.count <= 256 }) else { return nil }
            return result
        }

        /// Reads `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}` (with a lazy `?` or possessive `+`) after an atom.
        mutating func applyQuantifier(to atom: inout Info) -> Bool {
            guard let scalar = peek else { return true }
            var minimum: Int
            switch scalar {
            case "*":
                minimum = 0
                position += 1
            case "+":
                minimum = 1
                position += 1
            case "?":
                position += 1
                if let exact = atom.exact {
                    atom = Info(exact: exact.union([""]), required: nil)
                } else {
                    atom = .unknown
                }
                if peek == "?" || peek == "+" { position += 1 }
                return true
            case "{":
                position += 1
                guard let low = readNumber() else { return false }
                minimum = low
                if peek == "," {
                    position += 1
                    _ = readNumber()
                }
                guard peek == "}" else { return false }
                position += 1
            default:
                return true
            }
            if peek == "?" || peek == "+" { position += 1 }
            if minimum == 0 {
                atom = .unknown
            } else {
                atom = Info(exact: nil, required: atom.requirement)
            }
            return true
        }

        mutating func readNumber() -> Int? {
            var value = 0
            var digits = 0
            while let scalar = peek, let digit = scalar.properties.numericType == .decimal ? Int(String(scalar)) : nil {
                guard scalar.isASCII else { return nil }
                value = min(value * 10 + digit, 1_000_000)
                digits += 1
                position += 1
            }
            return digits > 0 ? value : nil
        }

        func literal(_ scalar: Unicode.Scalar) -> Info {
            if caseInsensitive || forcedCaseInsensitive {
                guard scalar.isASCII else { return .unknown }
                let byte = UInt8(scalar.value)
                let lower = (byte | 0x20) &- 0x61 < 26 ? byte | 0x20 : byte
                return Info(exact: [String(UnicodeScalar(lower))], required: nil)
            }
            return Info(exact: [String(scalar)], required: nil)
        }

        mutating func parseAtom(depth: Int) -> Info? {
            guard let scalar = peek else { return nil }
            position += 1
            switch scalar {
            case "(":
                return parseGroup(depth: depth)
            case "[":
                return skipClass() ? .unknown : nil
            case ".", "^", "$":
                return .unknown
            case "\\":
                return parseEscape()
            case "*", "+", "?", "{":
                // A quantifier with nothing to repeat (ICU rejects it; nothing is known).
                return nil
            default:
                return literal(scalar)
            }
        }

        mutating func parseGroup(depth: Int) -> Info? {
            var lookaround = false
            if peek == "?" {
                position += 1
                guard let kind = peek else { return nil }
                switch kind {
                case ":", ">":
                    position += 1
                case "=", "!":
                    position += 1
                    lookaround = true
                case "#":
                    while let scalar = peek, scalar != ")" { position += 1 }
                    guard peek == ")" else { return nil }
                    position += 1
                    return Info(exact: [""], required: nil)
                case "<":
                    position += 1
                    if peek == "=" || peek == "!" {
                        position += 1
                        lookaround = true
                    } else {
                        while let scalar = peek, scalar != ">" { position += 1 }
                        guard peek == ">" else { return nil }
                        position += 1
                    }
                case "P":
                    return nil
                default:
                    // Inline flags: (?i) (?-i) (?i:…) (?s) (?m) (?w) (?x)…
                    var flags = ""
                    while let scalar = peek, scalar != ")", scalar != ":" {
                        flags.unicodeScalars.append(scalar)
                        position += 1
                    }
                    guard let end = peek, !flags.contains("x"), flags.allSatisfy({ "imswud-".contains($0) }) else {
                        return nil
                    }
                    position += 1
                    sawFlags = true
                    if flags.contains("i") { forcedCaseInsensitive = true }
                    if end == ")" { return .unknown }
                }
            }
            guard let inner = parseAlternation(depth: depth + 1), peek == ")" else { return nil }
            position += 1
            return lookaround ? .unknown : inner
        }

        /// Skips a bracket expression (ICU sets nest: `[a-z&&[^aeiou]]`).
        mutating func skipClass() -> Bool {
            var depth = 1
            if peek == "^" { position += 1 }
            if peek == "]" { position += 1 }
            while let scalar = peek {
                position += 1
                switch scalar {
                case "\\":
                    guard let escaped = peek else { return false }
                    position += 1
                    if "pPNx".unicodeScalars.contains(escaped), peek == "{" { skipBraces() }
                case "[":
                    depth += 1
                case "]":
                    depth -= 1
                    if depth == 0 { return true }
                default:
                    break
                }
            }
            return false
        }

        mutating func skipBraces() {
            while let scalar = peek {
                position += 1
                if scalar == "}" { return }
            }
        }

        mutating func parseEscape() -> Info? {
            guard let scalar = peek else { return nil }
            position += 1
            switch scalar {
            case "d", "D", "w", "W", "s", "S", "h", "H", "v", "V", "R", "X", "b", "B", "A", "z", "Z", "G":
                return .unknown
            case "p", "P", "N":
                if peek == "{" { skipBraces() } else if peek != nil { position += 1 }
                return .unknown
            case "x":
                if peek == "{" {
                    skipBraces()
                } else {
                    for _ in 0..<2 where peek?.properties.isASCIIHexDigit == true { position += 1 }
                }
                return .unknown
            case "u":
                for _ in 0..<4 where peek?.properties.isASCIIHexDigit == true { position += 1 }
                return .unknown
            case "U":
                for _ in 0..<8 where peek?.properties.isASCIIHexDigit == true { position += 1 }
                return .unknown
            case "c":
                if peek != nil { position += 1 }
                return .unknown
            case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9":
                while let next = peek, next.isASCII, next.properties.numericType == .decimal { position += 1 }
                return .unknown
            case "k":
                guard peek == "<" else { return nil }
                while let next = peek, next != ">" { position += 1 }
                guard peek == ">" else { return nil }
                position += 1
                return .unknown
            case "Q":
                var run = ""
                while position < scalars.count {
                    if scalars[position] == "\\", position + 1 < scalars.count, scalars[position + 1] == "E" {
                        position += 2
                        break
                    }
                    guard let exact = literal(scalars[position]).exact?.first else { return .unknown }
                    run += exact
                    position += 1
                }
                return Info(exact: [run], required: nil)
            case "E":
                return Info(exact: [""], required: nil)
            case "t": return literal("\t")
            case "n": return literal("\n")
            case "r": return literal("\r")
            case "f": return literal("\u{0C}")
            case "e": return literal("\u{1B}")
            case "a": return literal("\u{07}")
            default:
                // An escaped punctuation or symbol is itself; any other letter is unknown to this reader.
                if scalar.properties.isAlphabetic || scalar.properties.numericType != nil { return nil }
                return literal(scalar)
            }
        }
    }
}
