import Fluent
import Foundation
import PipewrightCore
import SSHKeys
import Vapor

/// `/ready`: the database answers and the master key opens the stored check value.
struct ReadinessCheck: Content {
    var ready: Bool
    var database: Bool
    var masterKey: Bool
    var message: String?

    static func run(on database: any Database, masterKey: MasterKey) async -> ReadinessCheck {
        do {
            guard let stored = try await Setting.query(on: database).filter(\.$name == Setting.masterKeyCheck).first()
            else {
                return ReadinessCheck(
                    ready: false, database: true, masterKey: false, message: "master key check value missing")
            }
            let keyOK = MasterKeyStore.opensCheck(stored.value, with: masterKey)
            return ReadinessCheck(
                ready: keyOK, database: true, masterKey: keyOK,
                message: keyOK ? nil : "the master key does not open the stored data")
        } catch {
            return ReadinessCheck(ready: false, database: false, masterKey: false, message: "database unreachable")
        }
    }
}

/// `/health` body.
struct HealthResponse: Content {
    var status: String
    /// `BuildInfo.version`.
    var version = BuildInfo.version
    /// `BuildInfo.commit`.
    var commit = BuildInfo.commit
}
