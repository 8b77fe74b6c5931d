import ArgumentParser
import Foundation

/// The `pipewright` command line (README "Commands"; docs/operations.md).
///
/// One small `AsyncParsableCommand` per subcommand, nested here (`PipewrightCommand.Serve`,
/// `PipewrightCommand.User.Create`, …), one file each. Parsing never touches the disk: `pipewright`,
/// `help`, `--help`, `--version` and unknown commands read no configuration and create nothing. A
/// subcommand that needs the database calls ``ServiceBoot/withApplication(_:access:_:)``.
///
/// Exit status: 0 success; 1 the command failed (one line on standard error, no backtrace); 64 usage
/// error (unknown command, bad or missing argument).
public struct PipewrightCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pipewright",
        abstract: "Self-hosted deployment control plane for Bitbucket Cloud.",
        discussion: """
            Configuration comes from environment variables (README "Configuration"): PIPEWRIGHT_DATA_DIR \
            (default ./data), DATABASE_URL, PIPEWRIGHT_MASTER_KEY[_FILE], PIPEWRIGHT_HOST, PIPEWRIGHT_PORT, …
            """,
        version: "pipewright \(BuildInfo.description)",
        subcommands: [
            Serve.self, Migrate.self, User.self, Token.self, MasterKey.self, Keys.self, Backup.self, Restore.self,
            DB.self,
        ]
    )

    public init() {}

    /// `pipewright` alone prints the help.
    public func run() async throws {
        print(Self.helpMessage())
    }

    /// Parses `arguments`, runs the command and exits the process with its status; errors are printed once,
    /// as one line, on standard error.
    public static func runMain(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Never {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            exitForParserError(error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
            Foundation.exit(0)
        } catch {
            // Help (`help`, `--help`) arrives here as the library's own error type, from its help command.
            if error is ValidationError || error is ExitCode || error is CleanExit
                || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
            {
                exitForParserError(error)
            }
            printError(CommandFailure.line(for: error))
            Foundation.exit(1)
        }
    }

    /// Help and `--version` print and exit 0; usage errors print one line and exit 64.
    private static func exitForParserError(_ error: any Error) -> Never {
        let code = exitCode(for: error)
        if code == .success { exit(withError: error) }
        let message = message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
        if !message.isEmpty { printError("error: \(message) (see 'pipewright help')") }
        Foundation.exit(code.rawValue)
    }
}

/// Writes one line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
