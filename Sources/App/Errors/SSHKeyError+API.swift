import Fluent
import Foundation
import PipewrightCore
import SSHKeys
import Vapor

/// HTTP mapping of the SSHKeys module's errors (the only place it is decided).
extension SSHKeyError: APIErrorConvertible {
    public var reason: String { message }

    public var status: HTTPResponseStatus {
        switch self {
        case .unsupportedKeyType, .notAPrivateKey, .wrongPassphrase, .invalidPrivateKey, .invalidKeyParameters,
            .invalidPublicKey, .invalidTarget, .invalidHostKey:
            .badRequest
        case .hostKeyMismatch, .hostKeyUnknown:
            .conflict
        case .timeout:
            .gatewayTimeout
        case .authFailed, .connectionRefused, .dnsFailure, .permissionDeniedRemote, .sshFailed, .remoteScriptFailed,
            .unsupportedSignatureAlgorithm, .outcomeUnknown, .remotePermissions:
            .badGateway
        }
    }
}
