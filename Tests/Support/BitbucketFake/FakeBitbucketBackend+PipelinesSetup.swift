import Foundation

/// Repository configuration for Pipelines (reference §3): `pipelines_config` (404 before the first PUT),
/// repository variables (409 on a duplicate key, secured values never returned), `ssh/key_pair` (404 when
/// absent, the private key write-only), `ssh/known_hosts/` (409 on a duplicate hostname, fingerprints
/// computed from `key`), `environments/` (409 on a duplicate name) and deployment variables.
///
/// Scopes (https://developer.atlassian.com/cloud/bitbucket/rest/intro/): `pipelines_config` needs
/// `repository:admin`; reads need `pipeline`; variable, key pair and known host writes need
/// `pipeline:variable`; environments need `pipeline`.
extension FakeBitbucketBackend {
    static var pipelinesSetupRoutes: [FakeRoute] {
        let repo: [FakeRoute.Segment] = ["repositories", .parameter, .parameter]
        let config = repo + ["pipelines_config"]
        let variables = config + ["variables"]
        let ssh = config + ["ssh"]
        let knownHosts = ssh + ["known_hosts"]
        let environments = repo + ["environments"]
        let deploymentVariables = repo + ["deployments_config", "environments", .parameter, "variables"]
        return [
            FakeRoute("GET", config, scope: "repository:admin") { backend, _, captures in
                backend.withSetup(captures) { setup in
                    guard let enabled = setup.enabled else {
                        return .error(
                            404, message: "Not found", detail: "Pipelines is not configured for this repository.")
                    }
                    return .json(["type": "repository_pipelines_configuration", "enabled": .bool(enabled)])
                }
            },
            FakeRoute("PUT", config, scope: "repository:admin") { backend, request, captures in
                backend.withSetup(captures) { setup in
                    guard let body = FakeJSON.parse(request.body), let enabled = body["enabled"]?.boolValue else {
                        return .error(400, message: "Bad request", fields: ["enabled": ["This field is required."]])
                    }
                    setup.enabled = enabled
                    return .json(["type": "repository_pipelines_configuration", "enabled": .bool(enabled)])
                }
            },
            FakeRoute("GET", variables, scope: "pipeline") { backend, request, captures in
                backend.withSetup(captures) { setup in
                    backend.paginate(setup.variables.map { $0.json(type: "pipeline_variable") }, request: request)
                }
            },
            FakeRoute("POST", variables, scope: "pipeline:variable") { backend, request, captures in
                backend.withSetup(captures) { setup in
                    Self.createVariable(
                        in: &setup.variables, request: request, type: "pipeline_variable",
                        location: { backend.location(request, uuid: $0) })
                }
            },
            FakeRoute("PUT", variables + [.parameter], scope: "pipeline:variable") { backend, request, captures in
                backend.withSetup(captures) { setup in
                    Self.updateVariable(
                        in: &setup.variables, uuid: captures[2], request: request, type: "pipeline_variable")
                }
            },
            FakeRoute("DELETE", variables + [.parameter], scope: "pipeline:variable") { backend, _, captures in
                backend.withSetup(captures) { setup in
                    guard let index = setup.variables.firstIndex(where: { $0.uuid == captures[2] }) else {
                        return Self.unknownUUID(captures[2])
                    }
                    setup.variables.remove(at: index)
                    return .empty(204)
                }
            },
            FakeRoute("GET", ssh + ["key_pair"], scope: "pipeline") { backend, _, captures in
                backend.withSetup(captures) { setup in
                    guard let pair = setup.keyPair else {
                        return .error(404, message: "Not found", detail: "No SSH key pair is configured.")
                    }
                    return .json(["type": "pipeline_ssh_key_pair", "public_key": .string(pair.publicKey)])
                }
            },
            FakeRoute("PUT", ssh + ["key_pair"], scope: "pipeline:variable") { backend, request, captures in
                let acceptsEd25519 = backend.acceptsEd25519KeyPairs
                return backend.withSetup(captures) { setup in
                    guard let body = FakeJSON.parse(request.body), let privateKey = body["private_key"]?.stringValue,
                        let publicKey = body["public_key"]?.stringValue
                    else {
                        return .error(
                            400, message: "Bad request",
                            fields: [
                                "private_key": ["This field is required."], "public_key": ["This field is required."],
                            ])
                    }
                    if let refusal = Self.refuseKeyPair(
                        privateKey: privateKey, publicKey: publicKey, acceptsEd25519: acceptsEd25519)
                    {
                        return refusal
                    }
                    setup.keyPair = FakeKeyPair(privateKey: privateKey, publicKey: publicKey)
                    return .json(["type": "pipeline_ssh_key_pair", "public_key": .string(publicKey)])
                }
            },
            FakeRoute("DELETE", ssh + ["key_pair"], scope: "pipeline:variable") { backend, _, captures in
                backend.withSetup(captures) { setup in
                    guard setup.keyPair != nil else { return .error(404, message: "Not found") }
                    setup.keyPair = nil
                    return .empty(204)
                }
            },
            FakeRoute("GET", knownHosts, scope: "pipeline") { backend, request, captures in
                backend.withSetup(captures) { setup in backend.paginate(setup.knownHosts.map(\.json), request: request)
                }
            },
            FakeRoute("POST", knownHosts, scope: "pipeline:variable") { backend, request, captures in
                backend.withSetup(captures) { setup in
                    switch Self.knownHost(from: request) {
                    case .failure(let error): return error.response
                    case .success(var host):
                        guard !setup.knownHosts.contains(where: { $0.hostname == host.hostname }) else {
                            return .error(409, message: "A known host with this hostname already exists.")
                        }
                        host.uuid = FakeIdentifiers.uuid()
                        setup.knownHosts.append(host)
                        return .json(
                            host.json, status: 201,
                            headers: [("Location", backend.location(request, uuid: host.uuid))])
                    }
                }
            },
            FakeRoute("PUT", knownHosts + [.parameter], scope: "pipeline:variable") { backend, request, captures in
                backend.withSetup(captures) { setup in
                    guard let index = setup.knownHosts.firstIndex(where: { $0.uuid == captures[2] }) else {
                        return Self.unknownUUID(captures[2])
                    }
                    switch Self.knownHost(from: request) {
                    case .failure(let error): return error.response
                    case .success(var host):
                        guard
                            !setup.knownHosts.contains(where: { $0.hostname == host.hostname && $0.uuid != captures[2] }
                            )
                        else { return .error(409, message: "A known host with this hostname already exists.") }
                        host.uuid = captures[2]
                        setup.knownHosts[index] = host
                        return .json(host.json)
                    }
                }
            },
            FakeRoute("DELETE", knownHosts + [.parameter], scope: "pipeline:variable") { backend, _, captures in
                backend.withSetup(captures) { setup in
                    guard let index = setup.knownHosts.firstIndex(where: { $0.uuid == captures[2] }) else {
                        return Self.unknownUUID(captures[2])
                    }
                    setup.knownHosts.remove(at: index)
                    return .empty(204)
                }
            },
            FakeRoute("GET", environments, scope: "pipeline") { backend, request, captures in
                backend.withSetup(captures) { setup in
                    backend.paginate(setup.environments.map(\.json), request: request)
                }
            },
            FakeRoute("POST", environments, scope: "pipeline") { backend, request, captures in
                backend.withSetup(captures) { setup in
                    guard let body = FakeJSON.parse(request.body), let name = body["name"]?.stringValue,
                        !name.trimmingCharacters(in: .whitespaces).isEmpty
                    else { return .error(400, message: "Bad request", fields: ["name": ["This field is required."]]) }
                    guard let type = body["environment_type"], let typeName = type["name"]?.stringValue,
                        let rank = ["Test": 0, "Staging": 1, "Production": 2][typeName]
                    else {
                        return .error(
                            400, message: "Bad request",
                            fields: ["environment_type": ["A valid environment type is required."]])
                    }
                    guard !setup.environments.contains(where: { $0.name.lowercased() == name.lowercased() }) else {
                        return .error(409, message: "An environment with this name already exists.")
                    }
                    let environment = FakeEnvironment(name: name, typeName: typeName, rank: rank)
                    setup.environments.append(environment)
                    return .json(
                        environment.json, status: 201,
                        headers: [("Location", backend.location(request, uuid: environment.uuid))])
                }
            },
            FakeRoute("GET", deploymentVariables, scope: "pipeline") { backend, request, captures in
                backend.withEnvironment(captures) { environment in
                    backend.paginate(
                        environment.variables.map { $0.json(type: "deployment_variable") }, request: request)
                }
            },
            FakeRoute("POST", deploymentVariables, scope: "pipeline:variable") { backend, request, captures in
                backend.withEnvironment(captures) { environment in
                    Self.createVariable(
                        in: &environment.variables, request: request, type: "deployment_variable",
                        location: { backend.location(request, uuid: $0) })
                }
            },
            FakeRoute("PUT", deploymentVariables + [.parameter], scope: "pipeline:variable") {
                backend, request, captures in
                backend.withEnvironment(captures) { environment in
                    Self.updateVariable(
                        in: &environment.variables, uuid: captures[3], request: request, type: "deployment_variable")
                }
            },
        ]
    }

    // MARK: - State access

    /// Runs `change` on the repository's setup (404 for an unknown repository) and stores the result.
    func withSetup(_ captures: [String], _ change: (inout FakePipelinesSetup) -> FakeResponse) -> FakeResponse {
        switch repository(captures[0], captures[1]) {
        case .failure(let error): return error.response
        case .success(var repository):
            let response = change(&repository.pipelinesSetup)
            update(repository)
            return response
        }
    }

    /// Runs `change` on the environment `captures[2]` (braced UUID) of the repository.
    func withEnvironment(_ captures: [String], _ change: (inout FakeEnvironment) -> FakeResponse) -> FakeResponse {
        withSetup(captures) { setup in
            guard let index = setup.environments.firstIndex(where: { $0.uuid == captures[2] }) else {
                return Self.unknownUUID(captures[2])
            }
            return change(&setup.environments[index])
        }
    }

    /// `Location` of a created item: the request URL (without query) plus the percent-encoded UUID.
    func location(_ request: FakeRequest, uuid: String) -> String {
        var path = request.path
        if !path.hasSuffix("/") { path += "/" }
        return origin(of: request) + path + FakeIdentifiers.encode(uuid)
    }

    // MARK: - Rules

    /// The pipelines service's answer to an unbraced or unknown UUID.
    static func unknownUUID(_ uuid: String) -> FakeResponse {
        guard uuid.hasPrefix("{"), uuid.hasSuffix("}") else {
            return .error(
                404, message: "Not found", detail: "The value provided is not a valid uuid.", includeType: false)
        }
        return .error(404, message: "Not found", includeType: false)
    }

    /// Variable names: letters, digits and `_`, not starting with a digit.
    static func isVariableKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return key.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
    }

    /// `201` + `Location` with the new variable, `400` for a bad key, `409` for a duplicate key.
    static func createVariable(
        in variables: inout [FakeVariable], request: FakeRequest, type: String, location: (String) -> String
    ) -> FakeResponse {
        guard let body = FakeJSON.parse(request.body), let key = body["key"]?.stringValue, isVariableKey(key) else {
            return .error(400, message: "Bad request", fields: ["key": ["A valid variable name is required."]])
        }
        guard !variables.contains(where: { $0.key == key }) else {
            return .error(409, message: "A variable with the key '\(key)' already exists.")
        }
        let variable = FakeVariable(
            key: key, value: body["value"]?.stringValue ?? "", secured: body["secured"]?.boolValue ?? false)
        variables.append(variable)
        return .json(variable.json(type: type), status: 201, headers: [("Location", location(variable.uuid))])
    }

    static func updateVariable(in variables: inout [FakeVariable], uuid: String, request: FakeRequest, type: String)
        -> FakeResponse
    {
        guard let index = variables.firstIndex(where: { $0.uuid == uuid }) else { return unknownUUID(uuid) }
        guard let body = FakeJSON.parse(request.body) else { return .error(400, message: "Bad request") }
        if let key = body["key"]?.stringValue, key != variables[index].key {
            guard isVariableKey(key) else {
                return .error(400, message: "Bad request", fields: ["key": ["A valid variable name is required."]])
            }
            guard !variables.contains(where: { $0.key == key }) else {
                return .error(409, message: "A variable with the key '\(key)' already exists.")
            }
            variables[index].key = key
        }
        if let value = body["value"]?.stringValue { variables[index].value = value }
        if let secured = body["secured"]?.boolValue { variables[index].secured = secured }
        return .json(variables[index].json(type: type))
    }

    /// A 400 for a key pair Bitbucket would not take: a passphrase-protected private key, a public key that
    /// is not `<algorithm> <base64>`, an algorithm other than RSA (Ed25519 only when enabled).
    static func refuseKeyPair(privateKey: String, publicKey: String, acceptsEd25519: Bool) -> FakeResponse? {
        let parts = publicKey.split(separator: " ")
        guard parts.count >= 2, Data(base64Encoded: String(parts[1])) != nil else {
            return .error(400, message: "Bad request", fields: ["public_key": ["Invalid public key."]])
        }
        let accepted = acceptsEd25519 ? ["ssh-rsa", "ssh-ed25519"] : ["ssh-rsa"]
        guard accepted.contains(String(parts[0])) else {
            return .error(400, message: "Bad request", fields: ["public_key": ["Unsupported key type \(parts[0])."]])
        }
        guard privateKey.contains("-----BEGIN"), privateKey.contains("PRIVATE KEY-----"),
            !privateKey.contains("ENCRYPTED")
        else {
            return .error(
                400, message: "Bad request",
                fields: ["private_key": ["Invalid private key; keys with a passphrase are not supported."]])
        }
        return nil
    }

    /// `{"hostname", "public_key": {"key_type", "key"}}`, with `key` a base64 blob whose algorithm is `key_type`.
    static func knownHost(from request: FakeRequest) -> Result<FakeKnownHost, FakeResponseError> {
        guard let body = FakeJSON.parse(request.body), let hostname = body["hostname"]?.stringValue,
            !hostname.isEmpty, !hostname.contains(" ")
        else {
            return .failure(
                .init(.error(400, message: "Bad request", fields: ["hostname": ["This field is required."]])))
        }
        guard let key = body["public_key"], let keyType = key["key_type"]?.stringValue,
            let blob = key["key"]?.stringValue, let bytes = Data(base64Encoded: blob), bytes.count > 4
        else {
            return .failure(.init(.error(400, message: "Bad request", fields: ["public_key": ["Invalid public key."]])))
        }
        let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        guard bytes.count >= 4 + length, String(decoding: bytes[4..<(4 + length)], as: UTF8.self) == keyType else {
            return .failure(
                .init(.error(400, message: "Bad request", fields: ["public_key": ["key does not match key_type."]])))
        }
        return .success(FakeKnownHost(hostname: hostname, keyType: keyType, key: blob))
    }
}
