import Crypto
import Foundation
import NIOFoundationCompat
import Vapor

/// The dashboard's stylesheet and ES modules, read once from the App target's resources
/// (`Sources/App/Dashboard/Assets`, found through `Bundle.module` from any working directory) and served
/// by `GET /assets/{name}`.
///
/// Each asset's URL carries a version (`/assets/dashboard.css?v=<first 12 hex digits of its SHA-256>`): a
/// request with the current version is cacheable for a year (`immutable`); any request gets an `ETag`
/// (the full digest) and `If-None-Match` answers 304. `dashboard.css` is the file followed by the
/// terminal palette (``ANSIPalette/css()``).
struct DashboardAssets: Sendable {
    struct Asset: Sendable {
        let body: ByteBuffer
        let contentType: HTTPMediaType
        let digest: String
        var version: String { String(digest.prefix(12)) }
    }

    let assets: [String: Asset]

    /// Loads every file of the resource folder.
    ///
    /// - Throws: when the resource folder cannot be read (a broken installation).
    static func load() throws -> DashboardAssets {
        guard let folder = Bundle.module.url(forResource: "Assets", withExtension: nil) else {
            throw Abort(.internalServerError, reason: "dashboard assets are missing from the installation")
        }
        var assets: [String: Asset] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        where !name.hasPrefix(".") {
            var data = try Data(contentsOf: folder.appendingPathComponent(name))
            if name == "dashboard.css" { data += Data(ANSIPalette.css().utf8) }
            let type: HTTPMediaType =
                name.hasSuffix(".css")
                ? HTTPMediaType(type: "text", subType: "css", parameters: ["charset": "utf-8"])
                : HTTPMediaType(type: "text", subType: "javascript", parameters: ["charset": "utf-8"])
            let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
            assets[name] = Asset(body: ByteBuffer(data: data), contentType: type, digest: digest)
        }
        return DashboardAssets(assets: assets)
    }

    /// `/assets/<name>?v=<version>`, the URL pages link to.
    func url(_ name: String) -> String {
        guard let asset = assets[name] else { return "/assets/\(name)" }
        return "/assets/\(name)?v=\(asset.version)"
    }

    /// The response for `GET /assets/{name}`: 404 for an unknown name, 304 for a matching
    /// `If-None-Match`, else the asset.
    func response(for request: Request) throws -> Response {
        guard let name = request.parameters.get("name"), let asset = assets[name] else {
            throw AppError.notFound("asset")
        }
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .eTag, value: "\"\(asset.digest)\"")
        let versioned = request.query[String.self, at: "v"] == asset.version
        headers.replaceOrAdd(
            name: .cacheControl, value: versioned ? "public, max-age=31536000, immutable" : "no-cache")
        if let match = request.headers.first(name: .ifNoneMatch),
            match.split(separator: ",").contains(where: {
                $0.trimmingCharacters(in: .whitespaces) == "\"\(asset.digest)\""
            })
        {
            return Response(status: .notModified, headers: headers)
        }
        headers.contentType = asset.contentType
        return Response(status: .ok, headers: headers, body: .init(buffer: asset.body))
    }
}
