import Foundation
import NIOSSL
import PipewrightCore
import Vapor

/// HTTPS/WSS served by the process itself (docs/API.md "TLS"): `PIPEWRIGHT_TLS_CERT_FILE` (PEM certificate chain,
/// leaf first) and `PIPEWRIGHT_TLS_KEY_FILE` (PEM private key, unencrypted).
///
/// Files are read once at start-up; replacing them needs a restart. TLS 1.2 is the minimum; HTTP/1.1 only
/// (WebSocket upgrades need it).
enum ServerTLS {
    /// A server `TLSConfiguration` from the files, checked by building an `NIOSSLContext` once.
    ///
    /// - Throws: `ConfigurationError.invalid` naming `PIPEWRIGHT_TLS_CERT_FILE` (missing, unreadable, not a
    ///   PEM certificate) or `PIPEWRIGHT_TLS_KEY_FILE` (missing, unreadable, not a PEM key, encrypted, or not
    ///   the certificate's key). Never includes file contents.
    static func configuration(for files: ServerSettings.TLSFiles) throws -> TLSConfiguration {
        let certificateVariable = "PIPEWRIGHT_TLS_CERT_FILE"
        let keyVariable = "PIPEWRIGHT_TLS_KEY_FILE"
        guard FileManager.default.isReadableFile(atPath: files.certificateChainPath) else {
            throw ConfigurationError.invalid(
                variable: certificateVariable, reason: "cannot read \(files.certificateChainPath)")
        }
        guard FileManager.default.isReadableFile(atPath: files.privateKeyPath) else {
            throw ConfigurationError.invalid(variable: keyVariable, reason: "cannot read \(files.privateKeyPath)")
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificateChainPath)
        } catch {
            chain = []
        }
        guard !chain.isEmpty else {
            throw ConfigurationError.invalid(
                variable: certificateVariable, reason: "\(files.certificateChainPath) holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.privateKeyPath, format: .pem)
        } catch {
            throw ConfigurationError.invalid(
                variable: keyVariable, reason: "\(files.privateKeyPath) holds no unencrypted PEM private key")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigurationError.invalid(
                variable: keyVariable, reason: "the key does not belong to the certificate in \(certificateVariable)")
        }
        return configuration
    }

    /// Applies `settings` to the app's HTTP server: TLS when configured, HTTP/1.1, shutdown grace.
    static func apply(_ settings: ServerSettings, to app: Application) throws {
        if let files = settings.tls {
            app.http.server.configuration.tlsConfiguration = try configuration(for: files)
        }
        app.http.server.configuration.supportVersions = [.one]
        app.http.server.configuration.shutdownTimeout = .nanoseconds(settings.shutdownGrace.clampedNanoseconds)
    }
}
