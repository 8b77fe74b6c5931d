/// The repository's Pipelines SSH key pair, from `GET/PUT /repositories/{workspace}/{repo_slug}/pipelines_config/ssh/key_pair`
/// (`{"type": "pipeline_ssh_key_pair", "public_key": "ssh-rsa AAAA… comment"}`).
///
/// Bitbucket never returns the private key; it is the default SSH identity of every build container.
/// One key pair per repository; the private key must have no passphrase.
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-config-ssh-key-pair-get
public struct BitbucketSSHKeyPair: Sendable, Equatable, Decodable {
    /// The OpenSSH public key line (`<algorithm> <base64> [comment]`).
    public var publicKey: String

    /// Creates a key pair value.
    public init(publicKey: String) { self.publicKey = publicKey }

    enum CodingKeys: String, CodingKey { case publicKey = "public_key" }
}
