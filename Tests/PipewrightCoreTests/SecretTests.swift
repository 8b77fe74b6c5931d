import PipewrightCore
import Testing

@Suite struct SecretTests {
    @Test func secret_isRedactedInEveryTextualForm() {
        let secret = Secret("hunter2-password")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        #expect(secret.value == "hunter2-password")
    }
}
