/// Why an ``SSHDFixture`` could not be set up.
public enum SSHDFixtureError: Error, Sendable, CustomStringConvertible {
    /// The fixture creates system users and starts `sshd` as root; this process is not root.
    case notRoot
    /// `/usr/sbin/sshd` is missing (`apt-get install -y openssh-server`).
    case sshdMissing
    /// A setup command failed; `command` names it, `output` is its diagnostic output.
    case commandFailed(command: String, output: String)
    /// `sshd` exited or did not log `Server listening on …` in time; `log` is its log.
    case sshdDidNotStart(log: String)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .notRoot:
            "SSHDFixture must run as root (it creates users with useradd and starts sshd)."
        case .sshdMissing:
            "/usr/sbin/sshd is missing; install it with 'apt-get install -y openssh-server'."
        case .commandFailed(let command, let output):
            "SSHDFixture setup command '\(command)' failed: \(output)"
        case .sshdDidNotStart(let log):
            "sshd did not start: \(log)"
        }
    }
}
