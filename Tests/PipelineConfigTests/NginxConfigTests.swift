import Foundation
import PipelineConfig
import Testing

@Suite struct NginxConfigTests {
    static let nginxCandidates = ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx", "/usr/local/bin/nginx"]

    @Test(
        arguments: [
            ("app.example.com", 3000, 80), ("_", 8080, 80), ("*.example.org", 5000, 8081), ("localhost", 1, 65535),
            ("xn--bcher-kva.example", 65535, 80),
        ] as [(String, Int, Int)])
    func generate_site_passesStructuralCheck(_ serverName: String, _ appPort: Int, _ listenPort: Int) throws {
        let text = try NginxConfigGenerator.generate(serverName: serverName, appPort: appPort, listenPort: listenPort)
        let result = NginxConfigValidator.validate(text, appPort: appPort)
        #expect(result.ok, "\(result.messages)")
        #expect(text.contains("listen \(listenPort);"))
        #expect(text.contains("server_name \(serverName);"))
        #expect(text.contains("proxy_pass http://127.0.0.1:\(appPort);"))
        for header in [
            "Upgrade $http_upgrade", "Host $host", "X-Real-IP $remote_addr",
            "X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme",
        ] {
            #expect(text.contains("proxy_set_header \(header);"))
        }
        for directive in [
            "proxy_http_version 1.1;", "proxy_connect_timeout", "proxy_read_timeout", "proxy_send_timeout",
            "client_max_body_size",
        ] {
            #expect(text.contains(directive))
        }
    }

    @Test(
        arguments: [
            ("app.example.com", 3000), ("_", 8080), ("*.example.org", 5000),
        ] as [(String, Int)])
    func generate_site_passesRealNginxCheck(_ serverName: String, _ appPort: Int) throws {
        let binary = try #require(
            Self.nginxCandidates.first { FileManager.default.isExecutableFile(atPath: $0) },
            "nginx is not installed; scripts/test installs the Debian package")
        let site = try NginxConfigGenerator.generate(serverName: serverName, appPort: appPort, listenPort: 8080)
        // A second site proves the per-site map variables do not clash.
        let other = try NginxConfigGenerator.generate(serverName: "other.example.net", appPort: 4000, listenPort: 8080)
        let output = try runNginxCheck(binary: binary, sites: [site, other])
        #expect(output.status == 0, "\(output.text)")
        #expect(output.text.contains("syntax is ok"))
    }

    @Test func realNginx_rejectsBrokenSite() throws {
        let binary = try #require(Self.nginxCandidates.first { FileManager.default.isExecutableFile(atPath: $0) })
        let broken = "server { listen 8080; server_name a.example; location / { proxy_pass http://127.0.0.1:1 } }\n"
        #expect(try runNginxCheck(binary: binary, sites: [broken]).status != 0)
    }

    @Test(arguments: [
        "a.example.com;", "a{b}.com", "two names.com", "evil.com\n  location / {}", "", "-bad.com",
        "a..com", "quote\".com", "tab\t.com", "ünicode.com", String(repeating: "a", count: 64) + ".com",
    ])
    func generate_badServerName_throws(_ serverName: String) {
        #expect(throws: PipelineConfigError.invalidInput(field: "server_name", reason: "must be a host name or _")) {
            try NginxConfigGenerator.generate(serverName: serverName, appPort: 3000)
        }
    }

    @Test(
        arguments: [
            (0, 80, "app_port"), (65536, 80, "app_port"), (-1, 80, "app_port"), (3000, 0, "listen_port"),
            (3000, 70000, "listen_port"),
        ] as [(Int, Int, String)])
    func generate_badPort_throws(_ appPort: Int, _ listenPort: Int, _ field: String) {
        #expect(throws: PipelineConfigError.invalidInput(field: field, reason: "must be 1-65535")) {
            try NginxConfigGenerator.generate(serverName: "a.example.com", appPort: appPort, listenPort: listenPort)
        }
    }

    struct StructuralCase: Sendable, CustomTestStringConvertible {
        let name: String
        let text: String
        let expected: String
        var testDescription: String { name }
    }

    @Test(arguments: [
        StructuralCase(
            name: "unbalanced open",
            text: "server { listen 80; server_name a; location / { proxy_pass http://127.0.0.1:3000; }\n",
            expected: "not closed"),
        StructuralCase(
            name: "unbalanced close",
            text: "server { listen 80; server_name a; location / { proxy_pass http://127.0.0.1:3000; } } }\n",
            expected: "without a matching '{'"),
        StructuralCase(
            name: "missing proxy_pass",
            text: "server { listen 80; server_name a; location / { root /var/www; } }\n", expected: "No 'proxy_pass'"),
        StructuralCase(
            name: "wrong port",
            text: "server { listen 80; server_name a; location / { proxy_pass http://127.0.0.1:4000; } }\n",
            expected: "No 'proxy_pass' to http://127.0.0.1:3000"),
        StructuralCase(
            name: "missing semicolon",
            text: "server { listen 80; server_name a; location / { proxy_pass http://127.0.0.1:3000 } }\n",
            expected: "not terminated with ';'"),
        StructuralCase(
            name: "missing listen",
            text: "server { server_name a; location / { proxy_pass http://127.0.0.1:3000; } }\n",
            expected: "No 'listen'"),
        StructuralCase(
            name: "missing server_name",
            text: "server { listen 80; location / { proxy_pass http://127.0.0.1:3000; } }\n",
            expected: "No 'server_name'"),
        StructuralCase(
            name: "foreign upstream",
            text:
                "server { listen 80; server_name a; location / { proxy_pass http://127.0.0.1:3000; }\n location /x { proxy_pass http://10.0.0.1:3000; } }\n",
            expected: "does not target 127.0.0.1"),
        StructuralCase(
            name: "unterminated quote",
            text: "server { listen 80; server_name \"a; location / { proxy_pass http://127.0.0.1:3000; } }\n",
            expected: "unterminated quoted string"),
    ])
    func validate_brokenSite_rejected(_ row: StructuralCase) {
        let result = NginxConfigValidator.validate(row.text, appPort: 3000)
        #expect(!result.ok)
        #expect(result.messages.contains { $0.contains(row.expected) }, "\(result.messages)")
    }

    @Test func validate_bracesInsideQuotesAndComments_ignored() {
        let text = """
            # a comment with { and } and ;
            server {
                listen 80;
                server_name a.example;
                add_header X-Note "braces { } and ; inside";
                location / { proxy_pass http://127.0.0.1:3000/; } # trailing }
            }
            """
        let result = NginxConfigValidator.validate(text, appPort: 3000)
        #expect(result.ok, "\(result.messages)")
    }

    @Test func suggestedPath_isSafeFileName() {
        #expect(
            NginxConfigGenerator.suggestedPath(serverName: "app.example.com") == "deploy/nginx/app.example.com.conf")
        #expect(NginxConfigGenerator.suggestedPath(serverName: "_") == "deploy/nginx/default.conf")
        #expect(
            NginxConfigGenerator.suggestedPath(serverName: "*.example.com") == "deploy/nginx/wildcard.example.com.conf")
    }

    /// Runs `nginx -t` on a throwaway prefix holding `sites` included in `http {}`.
    func runNginxCheck(binary: String, sites: [String]) throws -> (status: Int32, text: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-nginx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var includes = ""
        for (index, site) in sites.enumerated() {
            try site.write(to: directory.appendingPathComponent("site\(index).conf"), atomically: true, encoding: .utf8)
            includes += "    include \(directory.path)/site\(index).conf;\n"
        }
        let conf = """
            pid \(directory.path)/nginx.pid;
            error_log \(directory.path)/error.log;
            events {}
            http {
                access_log off;
                client_body_temp_path \(directory.path)/client_body;
                proxy_temp_path \(directory.path)/proxy;
                fastcgi_temp_path \(directory.path)/fastcgi;
                uwsgi_temp_path \(directory.path)/uwsgi;
                scgi_temp_path \(directory.path)/scgi;
            \(includes)}

            """
        try conf.write(to: directory.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-t", "-p", directory.path + "/", "-c", directory.path + "/nginx.conf"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
