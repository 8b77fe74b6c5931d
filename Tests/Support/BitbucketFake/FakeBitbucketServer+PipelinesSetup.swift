/// Inspection and "by hand" edits of repositories' Pipelines settings.
extension FakeBitbucketServer {
    /// The repository's Pipelines settings (with the private key and secured values as written), or `nil`
    /// for an unknown repository.
    public func pipelinesSetup(workspace: String, slug: String) async -> FakePipelinesSetup? {
        await backend.repositorySnapshot(workspace, slug)?.pipelinesSetup
    }

    /// Changes the settings directly, as someone editing them in Bitbucket's UI would (no request recorded).
    public func editPipelinesSetup(
        workspace: String, slug: String, _ change: @Sendable (inout FakePipelinesSetup) -> Void
    ) async {
        await backend.editPipelinesSetup(workspace, slug, change)
    }

    /// Whether `PUT …/ssh/key_pair` takes Ed25519 keys (off by default: unconfirmed for Bitbucket).
    public func setAcceptsEd25519KeyPairs(_ accepts: Bool) async { await backend.setAcceptsEd25519KeyPairs(accepts) }

    /// Requests received so far that could change state (every method but `GET`, `HEAD`).
    public func writeCount() async -> Int {
        await backend.recorded.filter { $0.method != "GET" && $0.method != "HEAD" }.count
    }
}

extension FakeBitbucketBackend {
    func editPipelinesSetup(_ workspace: String, _ slug: String, _ change: (inout FakePipelinesSetup) -> Void) {
        guard var repository = repositorySnapshot(workspace, slug) else { return }
        change(&repository.pipelinesSetup)
        update(repository)
    }

    func setAcceptsEd25519KeyPairs(_ accepts: Bool) { acceptsEd25519KeyPairs = accepts }
}
