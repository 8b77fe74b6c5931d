/// The seam through which domain code runs external programs.
///
/// The live implementation is ``SubprocessRunner``; tests inject fakes that record the
/// ``ProcessInvocation`` (argument vector, standard input, timeout) and return canned results.
public protocol ProcessRunner: Sendable {
    /// Runs `invocation` to completion (or until its timeout) and returns how it ended.
    ///
    /// - Parameter invocation: What to run and with which limits.
    /// - Returns: The termination and collected output. A non-zero exit status or a timeout is a
    ///   result, not an error.
    /// - Throws: ``ProcessError`` when the program cannot be launched or writes more than
    ///   ``ProcessInvocation/outputLimitBytes``; `CancellationError` when the calling task is
    ///   cancelled (the process is killed first).
    func run(_ invocation: ProcessInvocation) async throws -> ProcessResult
}
