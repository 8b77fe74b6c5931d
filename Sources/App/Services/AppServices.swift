import Fluent
import AsyncHTTPClient
import Bitbucket
import Foundation
import PipewrightCore
import SSHKeys
import Vapor

/// The composition root: every collaborator with a side effect, behind a protocol (STYLE §3.4).
///
/// Built once by `AppServices.live(configuration:)`; tests build their own.
public struct AppServices: Sendable {
    var configuration: PipewrightConfiguration
    /// Seals and opens private keys, passphrases and tokens.
    var masterKey: MasterKey
    /// Runs the system OpenSSH client.
    var ssh: any SSHRunner
    /// Reads a server's host keys (`ssh-keyscan`) for admin approval.
    var hostKeyScanner: HostKeyScanner
    /// Builds a Bitbucket client for `(base URL, credentials, logger)`; tests shorten its retry delays.
    var makeBitbucketClient: @Sendable (String, BitbucketCredentials, Logger) -> any BitbucketAPI
    /// Current time (injected so tests can pin it).
    var now: @Sendable () -> Date
    /// Fail-fast per-resource locks for state-changing operations.
    var locks = OperationLocks()
    /// bcrypt cost for password hashes (12 in production; tests lower it).
    var passwordHashCost: Int
    /// A hash of a random string, verified against on unknown usernames so timing reveals nothing.
    var dummyPasswordHash = ""

    static func live(configuration: PipewrightConfiguration, masterKey: MasterKey, logger: Logger) -> AppServices {
        let runner = OpenSSHRunner(
            processRunner: SubprocessRunner(), sshExecutable: configuration.sshExecutable, logger: logger)
        // One redirect-free client for the process (step logs redirect to storage: the client follows
        // those itself, without forwarding Authorization).
        let transport = AsyncHTTPClientTransport(httpClient: bitbucketHTTPClient)
        return AppServices(
            configuration: configuration, masterKey: masterKey, ssh: runner,
            hostKeyScanner: HostKeyScanner(processRunner: SubprocessRunner()),
            makeBitbucketClient: { baseURL, credentials, logger in
                LiveBitbucketClient(baseURL: baseURL, credentials: credentials, transport: transport, logger: logger)
            },
            now: { Date() }, passwordHashCost: 12)
    }
}

/// The process-wide HTTP client for Bitbucket: redirects are not followed automatically.
let bitbucketHTTPClient = AsyncHTTPClientTransport.makeHTTPClient()

extension Application {
    private struct AppServicesKey: StorageKey {
        typealias Value = AppServices
    }

    /// The services configured by `configure(_:configuration:)`.
    var services: AppServices {
        get {
            guard let services = storage[AppServicesKey.self] else {
                fatalError("configure(_:) must run before services are used")
            }
            return services
        }
        set { storage[AppServicesKey.self] = newValue }
    }
}

extension Request {
    var services: AppServices { application.services }
}
