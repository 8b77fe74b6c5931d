import ArgumentParser

// Vapor re-exports ConsoleKit, whose `Option`, `Flag` and `Argument` would make these names ambiguous:
// in this module they are swift-argument-parser's, so a command reads `@Option var port: Int?` as in
// the library's own examples.

/// swift-argument-parser's `@Option`.
typealias Option = ArgumentParser.Option
/// swift-argument-parser's `@Flag`.
typealias Flag = ArgumentParser.Flag
/// swift-argument-parser's `@Argument`.
typealias Argument = ArgumentParser.Argument
