import Fluent
import Foundation
import PipewrightCore

/// The ordered, append-only list of schema migrations. Never edit or reorder a shipped entry.
enum Migrations {
    static let all: [any Migration] = [
        CreateInitialSchema(),
        CreateConnectionAndPipeline(),
    ]
}
