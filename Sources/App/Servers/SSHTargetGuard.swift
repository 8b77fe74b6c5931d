import Foundation
import PipewrightCore
import SSHKeys
import Vapor

/// Applies `PIPEWRIGHT_SSH_ALLOWED_TARGETS` to SSH targets before anything connects.
///
/// Each target's host is resolved once; every address must be allowed (`SSHTargetAllowlist.decide`),
/// else the whole request is refused with 403 `target_not_allowed` and nothing connects. Allowed
/// targets get the first checked address as `connectAddress`, so OpenSSH connects to exactly that
/// address (no second DNS lookup that a rebinding attacker could answer differently). A host that does
/// not resolve is reported per server as `dns_failure`, also without running `ssh`.
struct SSHTargetGuard {
    let allowlist: SSHTargetAllowlist
    let resolver: any HostResolving

    init(services: AppServices) {
        allowlist = services.configuration.sshAllowedTargets
        resolver = services.hostResolver
    }

    /// `targets` with checked addresses.
    ///
    /// - Throws: `TargetNotAllowedError` for the first refused target.
    func check(_ targets: [ResolvedTarget]) async throws -> [ResolvedTarget] {
        var checked: [ResolvedTarget] = []
        for var target in targets {
            let ssh = target.sshTarget
            let addresses: [IPAddress]
            do {
                addresses = try await resolver.resolve(ssh.host)
            } catch {
                target.preflightFailure = .dnsFailure
                checked.append(target)
                continue
            }
            switch allowlist.decide(host: ssh.host, port: ssh.port, addresses: addresses) {
            case .allowed:
                target.connectAddress = addresses[0].description
                checked.append(target)
            case .denied(let reason):
                throw TargetNotAllowedError(target: ssh.description, reason: reason)
            }
        }
        return checked
    }

    /// The checked address of one target (host-key scans).
    func check(_ target: SSHTarget) async throws -> SSHTarget {
        let addresses: [IPAddress]
        do {
            addresses = try await resolver.resolve(target.host)
        } catch {
            throw SSHKeyError.dnsFailure
        }
        switch allowlist.decide(host: target.host, port: target.port, addresses: addresses) {
        case .allowed:
            var checked = target
            checked.connectAddress = addresses[0].description
            return checked
        case .denied(let reason):
            throw TargetNotAllowedError(target: target.description, reason: reason)
        }
    }
}

/// 403 `target_not_allowed`: the SSH target is outside `PIPEWRIGHT_SSH_ALLOWED_TARGETS`.
struct TargetNotAllowedError: APIErrorConvertible, Equatable {
    /// `user@host:port` as requested.
    var target: String
    var reason: String

    var status: HTTPResponseStatus { .forbidden }
    var code: String { "target_not_allowed" }
    var message: String { "The SSH target \(target) is not allowed by this service's target allowlist." }
    var details: [String: String] { ["target": target, "reason": reason] }
}
