import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import Testing
import Vapor
import VaporTesting

@testable import App

/// `PIPEWRIGHT_TLS_CERT_FILE` / `PIPEWRIGHT_TLS_KEY_FILE`: the service serves HTTPS itself, with HSTS and
/// `Secure` cookies; bad files stop start-up with one line naming the variable.
@Suite struct TLSTests {
    @Test func https_servesAPI_withHSTS_andSecureSessionCookie() async throws {
        try await withRunningTLSApp { ctx, port, certificate in
            try await withHTTPClient(trustedCertificate: certificate.certificatePath) { client in
                let health = try await client.execute(
                    HTTPClientRequest(url: "https://127.0.0.1:\(port)/health"), timeout: .seconds(10))
                #expect(health.status == .ok)
                #expect(health.headers.first(name: "Strict-Transport-Security") == "max-age=31536000")

                var login = HTTPClientRequest(url: "https://localhost:\(port)/api/auth/login")
                login.method = .POST
                login.headers.add(name: "Content-Type", value: "application/json")
                login.body = .bytes(ByteBuffer(string: #"{"username": "member", "password": "member-password-1"}"#))
                let response = try await client.execute(login, timeout: .seconds(10))
                #expect(response.status == .ok)
                let attributes = (response.headers.first(name: "Set-Cookie") ?? "").split(separator: ";")
                    .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                #expect(attributes.contains("secure"), "\(attributes)")
                #expect(attributes.contains("httponly"))
                #expect(response.headers.first(name: "Strict-Transport-Security") != nil)

                var error = HTTPClientRequest(url: "https://127.0.0.1:\(port)/api/ssh-keys")
                error.headers.add(name: "Authorization", value: "Bearer pw_forged")
                let unauthorized = try await client.execute(error, timeout: .seconds(10))
                #expect(unauthorized.status == .unauthorized)
                #expect(unauthorized.headers.first(name: "Strict-Transport-Security") != nil, "errors carry HSTS too")
            }
        }
    }

    @Test func plainHTTP_toTheTLSPort_fails_andAnUntrustedClientIsRefused() async throws {
        try await withRunningTLSApp { ctx, port, certificate in
            try await withHTTPClient { client in
                await #expect(throws: (any Error).self, "plain HTTP to the TLS port") {
                    _ = try await client.execute(
                        HTTPClientRequest(url: "http://127.0.0.1:\(port)/health"), timeout: .seconds(5))
                }
                await #expect(throws: (any Error).self, "a client that does not trust the self-signed certificate") {
                    _ = try await client.execute(
                        HTTPClientRequest(url: "https://127.0.0.1:\(port)/health"), timeout: .seconds(5))
                }
            }
            // curl, trusting the certificate, as a user would.
            let curl = try runProgram(
                "/usr/bin/env",
                [
                    "curl", "-sS", "--cacert", certificate.certificatePath, "-o", "/dev/null",
                    "-w", "%{http_code}", "https://127.0.0.1:\(port)/ready",
                ])
            #expect(curl.stdout == "200", "\(curl.stderr)")
        }
    }

    @Test func onlyOneTLSVariable_orBadFiles_stopStartUp_namingTheVariable() async throws {
        for (environment, variable) in [
            (["PIPEWRIGHT_TLS_CERT_FILE": "/tmp/cert.pem"], "PIPEWRIGHT_TLS_KEY_FILE"),
            (["PIPEWRIGHT_TLS_KEY_FILE": "/tmp/key.pem"], "PIPEWRIGHT_TLS_CERT_FILE"),
        ] {
            do {
                _ = try PipewrightConfiguration.fromEnvironment(environment)
                Issue.record("accepted \(environment)")
            } catch {
                #expect("\(error)".contains(variable), "\(error)")
            }
        }
        let good = try SelfSignedCertificate.make()
        let other = try SelfSignedCertificate.make()
        defer { good.remove(); other.remove() }
        let garbage = good.directory + "/garbage.pem"
        try Data("not a pem file\n".utf8).write(to: URL(fileURLWithPath: garbage))
        let cases: [(ServerSettings.TLSFiles, String)] = [
            (
                .init(certificateChainPath: good.directory + "/missing.pem", privateKeyPath: good.keyPath),
                "PIPEWRIGHT_TLS_CERT_FILE"
            ),
            (
                .init(certificateChainPath: good.certificatePath, privateKeyPath: good.directory + "/missing.pem"),
                "PIPEWRIGHT_TLS_KEY_FILE"
            ),
            (.init(certificateChainPath: garbage, privateKeyPath: good.keyPath), "PIPEWRIGHT_TLS_CERT_FILE"),
            (.init(certificateChainPath: good.certificatePath, privateKeyPath: garbage), "PIPEWRIGHT_TLS_KEY_FILE"),
            (.init(certificateChainPath: good.keyPath, privateKeyPath: good.keyPath), "PIPEWRIGHT_TLS_CERT_FILE"),
            (
                .init(certificateChainPath: good.certificatePath, privateKeyPath: other.keyPath),
                "PIPEWRIGHT_TLS_KEY_FILE"
            ),
        ]
        for (files, variable) in cases {
            do {
                _ = try ServerTLS.configuration(for: files)
                Issue.record("accepted \(files)")
            } catch let error as ConfigurationError {
                #expect(error.description.hasPrefix("configuration error: \(variable):"), "\(error)")
                #expect(!error.description.contains("BEGIN"), "no file content in the message")
            }
        }
        #expect(throws: Never.self) { _ = try ServerTLS.configuration(for: good.tlsFiles) }
    }
}
