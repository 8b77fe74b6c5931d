import Foundation
import Testing

@testable import App

/// A throwaway self-signed certificate (`openssl` CLI) for `localhost` / `127.0.0.1`, in its own
/// temporary directory (0700). Remove with `remove()`.
///
/// Reuse: `withRunningTLSApp` serves HTTPS/WSS with it; clients trust `certificatePath` (AsyncHTTPClient
/// `trustRoots: .file`, `curl --cacert`, python `ssl.create_default_context(cafile=…)` /
/// `socketio.Client(ssl_verify=certificatePath)`).
struct SelfSignedCertificate {
    let directory: String
    /// PEM certificate (also the trust root).
    let certificatePath: String
    /// PEM private key (unencrypted, 0600).
    let keyPath: String

    var tlsFiles: ServerSettings.TLSFiles {
        ServerSettings.TLSFiles(certificateChainPath: certificatePath, privateKeyPath: keyPath)
    }

    /// Generates a P-256 key and a certificate valid for 2 days with SANs `DNS:localhost, IP:127.0.0.1`.
    static func make(commonName: String = "localhost") throws -> SelfSignedCertificate {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-tls-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let certificate = directory + "/cert.pem"
        let key = directory + "/key.pem"
        let result = try runProgram(
            "/usr/bin/env",
            [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=\(commonName)",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ])
        guard result.status == 0 else {
            Issue.record("openssl failed: \(result.stderr)")
            throw CancellationError()
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)
        return SelfSignedCertificate(directory: directory, certificatePath: certificate, keyPath: key)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A test app serving HTTPS (and WSS) on `127.0.0.1:<port>` with a fresh self-signed certificate.
///
/// `body(ctx, port, certificate)`: connect to `https://127.0.0.1:<port>` (or `wss://…`) trusting
/// `certificate.certificatePath`.
@discardableResult
func withRunningTLSApp<T>(
    configure customizeConfiguration: @escaping (inout PipewrightConfiguration) -> Void = { _ in },
    _ body: (TestContext, Int, SelfSignedCertificate) async throws -> T
) async throws -> T {
    let certificate = try SelfSignedCertificate.make()
    defer { certificate.remove() }
    return try await withTestApp(configure: { configuration in
        configuration.server.tls = certificate.tlsFiles
        customizeConfiguration(&configuration)
    }) { ctx in
        try await withRunningServer(ctx.app) { port in
            try await body(ctx, port, certificate)
        }
    }
}
