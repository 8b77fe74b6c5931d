import AsyncHTTPClient
import Bitbucket
import Fluent
import Foundation
import LogStore
import PipewrightCore
import SSHKeys
import Vapor

/// The composition root: every collaborator with a side effect, behind a protocol so tests can replace each one.
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
    /// Build logs, under `PIPEWRIGHT_LOG_DIR` (default `<data dir>/logs`).
    var logStore: LogStore
    /// Sleeps of retries and monitors (tests use a short or manual clock).
    var clock: any Clock<Duration> = ContinuousClock()
    /// Base of the trigger backoff: delay before attempt n+1 is up to 2ⁿ × this (1 s; docs/API.md "Triggering and executions").
    var triggerRetryBaseDelay: Duration = .seconds(1)
    /// Upper bound of one trigger backoff delay.
    var triggerRetryCap: Duration = .seconds(60)
    /// Clock skew allowed when matching a pipeline created by an ambiguous POST.
    var triggerLookupSkew: Duration = .seconds(30)
    /// Fail-fast per-resource locks for state-changing operations (across instances on PostgreSQL).
    var locks = OperationLocks()
    /// Serial queues for decisions that must see each other (identical triggers).
    var queues = SerialQueues()
    /// bcrypt cost for password hashes (12 in production; tests lower it).
    var passwordHashCost: Int
    /// A hash of a random string, verified against on unknown usernames so timing reveals nothing.
    var dummyPasswordHash = ""
    /// Token buckets of the rate-limited actions (in process on SQLite, a shared table on PostgreSQL; see
    /// `RateLimiter`).
    var rateLimiter = RateLimiter()
    /// Resolves SSH target hosts before the allowlist check.
    var hostResolver: any HostResolving = SystemHostResolver()

    /// The key `masterKey` replaced by an online rotation in this process: values sealed with it by a
    /// request that began before the rotation still open (the rotation re-sealed everything stored).
    var retiredMasterKey: MasterKey?
    /// Keeps online rotation and sealing writes apart (`SealingGate`).
    var sealingGate = SealingGate()

    /// Seals under `masterKey`; opens values sealed with it (or with `retiredMasterKey`).
    var vault: SecretVault { SecretVault(masterKey: masterKey, retired: retiredMasterKey) }

    /// Bitbucket clients for stored connections.
    var bitbucketClients: BitbucketClients {
        BitbucketClients(vault: vault, baseURL: configuration.bitbucketAPIURL, makeClient: makeBitbucketClient)
    }

    static func live(configuration: PipewrightConfiguration, masterKey: MasterKey, logger: Logger) throws -> AppServices
    {
        let runner = OpenSSHRunner(
            processRunner: SubprocessRunner(), sshExecutable: configuration.sshExecutable,
            temporaryDirectoryParent: try SSHScratchDirectory.prepare(dataDirectory: configuration.dataDirectory),
            logger: logger)
        // One redirect-free client for the process (step logs redirect to storage: the client follows
        // those itself, without forwarding Authorization).
        let transport = InstanceTaggedTransport(
            base: MeteredBitbucketTransport(base: AsyncHTTPClientTransport(httpClient: bitbucketHTTPClient)),
            instanceID: configuration.cluster.instanceID)
        var services = AppServices(
            configuration: configuration, masterKey: masterKey, ssh: runner,
            hostKeyScanner: HostKeyScanner(processRunner: SubprocessRunner()),
            makeBitbucketClient: { baseURL, credentials, logger in
                LiveBitbucketClient(baseURL: baseURL, credentials: credentials, transport: transport, logger: logger)
            },
            now: { Date() },
            logStore: try openLogStore(
                directory: configuration.logDirectory, maximumStepBytes: configuration.logMaxStepBytes,
                logger: logger),
            passwordHashCost: 12)
        if case .postgres(let url) = configuration.database {
            // Several instances may share the database: locks and rate-limit buckets live in it
            // (docs/scaling.md "Locks, idempotency and rate limits").
            services.locks = OperationLocks(shared: try PostgresAdvisoryLocks(url: url, logger: logger))
            services.rateLimiter = RateLimiter(sharesBuckets: true)
        }
        return services
    }
}

/// Opens the log store, naming the variable to fix when the directory is unusable.
func openLogStore(directory: String, maximumStepBytes: Int64 = LogStore.defaultMaximumStepBytes, logger: Logger) throws
    -> LogStore
{
    do {
        return try LogStore(directory: directory, maximumStepBytes: maximumStepBytes, logger: logger)
    } catch {
        throw ConfigurationError.invalid(
            variable: "PIPEWRIGHT_LOG_DIR", reason: "cannot open the log store in \(directory)")
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
        get { configured(AppServicesKey.self) }
        set { storage[AppServicesKey.self] = newValue }
    }
}

extension Request {
    var services: AppServices { application.services }
}

extension Application {
    /// A value `configure(_:configuration:)` put in storage (services, supervisor, event hub, realtime
    /// connections); reading one before `configure` ran is a programming error and traps.
    func configured<Key: StorageKey>(_ key: Key.Type) -> Key.Value {
        guard let value = storage[key] else { fatalError("configure(_:) must run before \(Key.Value.self) is used") }
        return value
    }
}
