import SSHKeys
import Testing

@Suite struct SSHTargetTests {
    @Test func validated_acceptsNormalTargets() throws {
        #expect(
            try SSHTarget(host: "Example.COM", port: 22, username: "deploy").validated()
                == SSHTarget(host: "example.com", port: 22, username: "deploy"))
        #expect(try SSHTarget(host: "[::1]", port: 2222, username: "a.b_c-d").validated().host == "::1")
        #expect(try SSHTarget(host: "10.0.0.1", port: 65_535, username: "u").validated().port == 65_535)
        #expect(try SSHTarget(host: "host_name.internal", port: 1, username: "u").validated().port == 1)
    }

    @Test(arguments: [
        ("", "root", 22, "host"),
        ("-oProxyCommand=touch /tmp/x", "root", 22, "host"),
        ("-host", "root", 22, "host"),
        ("host name", "root", 22, "host"),
        ("host\nname", "root", 22, "host"),
        ("host\tname", "root", 22, "host"),
        ("host\u{0}", "root", 22, "host"),
        ("höst", "root", 22, "host"),
        ("host;id", "root", 22, "host"),
        ("user@host", "root", 22, "host"),
        ("[host]", "root", 22, "host"),
        ("host", "", 22, "username"),
        ("host", "-oProxyCommand=x", 22, "username"),
        ("host", "root\nProxyCommand x", 22, "username"),
        ("host", "ro ot", 22, "username"),
        ("host", "root$", 22, "username"),
        ("host", "a@b", 22, "username"),
        ("host", String(repeating: "a", count: 65), 22, "username"),
        ("host", "root", 0, "port"),
        ("host", "root", -1, "port"),
        ("host", "root", 65_536, "port"),
        ("host", "root", 70_000, "port"),
    ])
    func validated_rejects(host: String, username: String, port: Int, field: String) {
        #expect {
            try SSHTarget(host: host, port: port, username: username).validated()
        } throws: { error in
            guard case .invalidTarget(let reportedField, _) = error as? SSHKeyError else { return false }
            return reportedField == field
        }
    }

    @Test func invalidTarget_error_hasCodeAndDetails() {
        let error = SSHKeyError.invalidTarget(field: "port", reason: "must be between 1 and 65535")
        #expect(error.code == "invalid_target")
        #expect(error.details == ["field": "port", "reason": "must be between 1 and 65535"])
        #expect(error.message == "The target's port is invalid: must be between 1 and 65535.")
    }
}
