import Foundation

extension OpenSSHRunner {
    /// `false` only when the text is certainly not an RSA key (PEM of another type, or an OpenSSH key whose
    /// public part names another algorithm); the probe costs one session, so skip it when it cannot help.
    static func mayBeRSA(_ privateKeyText: String) -> Bool {
        if privateKeyText.contains("BEGIN RSA PRIVATE KEY") { return true }
        if privateKeyText.contains("BEGIN EC PRIVATE KEY") || privateKeyText.contains("BEGIN DSA PRIVATE KEY") {
            return false
        }
        guard privateKeyText.contains("BEGIN OPENSSH PRIVATE KEY") else { return true }
        // openssh-key-v1: the unencrypted header holds the public key, whose blob starts with the algorithm
        // name ("\0\0\0\x07ssh-rsa"); base64 of that prefix differs by offset, so decode the body.
        let body = privateKeyText.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("-----") }.joined()
        guard let data = Data(base64Encoded: String(body)) else { return true }
        return containsASCII(Array(data.prefix(4096)), "ssh-rsa")
    }

    private static func containsASCII(_ bytes: [UInt8], _ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard bytes.count >= needle.count else { return false }
        for start in 0...(bytes.count - needle.count) where bytes[start..<start + needle.count].elementsEqual(needle) {
            return true
        }
        return false
    }
}
