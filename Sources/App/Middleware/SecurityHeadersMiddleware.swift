import Foundation
import Vapor

/// Adds security headers to every response, errors included, and fixes the session cookie's flags.
///
/// - `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`,
///   `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'` (unless the handler set a policy);
/// - `Cache-Control: no-store` on `/api/…` responses (unless the handler set one): they are per user;
/// - `Strict-Transport-Security: max-age=31536000` when the service serves TLS itself;
/// - every `Set-Cookie` gets `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` when `secureCookies`
///   (own TLS or `PIPEWRIGHT_COOKIE_SECURE=true`).
struct SecurityHeadersMiddleware: AsyncMiddleware {
    /// TLS is served by this process: send HSTS.
    let sendsHSTS: Bool
    /// Mark cookies `Secure`.
    let secureCookies: Bool

    static let contentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'"
    static let strictTransportSecurity = "max-age=31536000"

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response: Response
        do {
            response = try await next.respond(to: request)
        } catch {
            response = APIErrorMiddleware.response(for: error, request: request)
        }
        apply(to: response, for: request)
        return response
    }

    func apply(to response: Response, for request: Request) {
        var headers = response.headers
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        headers.replaceOrAdd(name: "Referrer-Policy", value: "no-referrer")
        if !headers.contains(name: "Content-Security-Policy") {
            headers.replaceOrAdd(name: "Content-Security-Policy", value: Self.contentSecurityPolicy)
        }
        if request.url.path.hasPrefix("/api"), !headers.contains(name: .cacheControl) {
            headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        }
        if sendsHSTS {
            headers.replaceOrAdd(name: "Strict-Transport-Security", value: Self.strictTransportSecurity)
        }
        response.headers = headers
        if response.headers.contains(name: .setCookie) {
            var cookies = response.cookies
            for (name, var value) in cookies.all {
                value.isHTTPOnly = true
                value.sameSite = .lax
                value.path = "/"
                value.isSecure = secureCookies
                cookies[name] = value
            }
            response.cookies = cookies
        }
    }
}
