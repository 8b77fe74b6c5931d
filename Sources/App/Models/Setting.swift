import Fluent
import Foundation
import PipewrightCore

/// A named service-wide value (e.g. the sealed master-key check value).
///
/// `@unchecked Sendable`: see `User`.
final class Setting: Model, @unchecked Sendable {
    static let schema = "settings"

    /// Key under which the sealed master-key check value is stored.
    static let masterKeyCheck = "master_key_check"

    // managed fields
    @ID(custom: .id, generatedBy: .database) var id: Int?

    // data fields
    @Field(key: "name") var name: String
    @Field(key: "value") var value: String

    init() {}

    init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
