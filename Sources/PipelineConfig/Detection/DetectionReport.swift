/// The result of `StackDetector.detect`.
///
/// Deterministic: the same snapshot (in any file order) yields an identical report.
public struct DetectionReport: Sendable, Hashable, Codable {
    /// The best candidate (highest score; ties broken by `StackLanguage` order, then directory path),
    /// or `nil` when the repository holds nothing recognisable (the App maps that to an error).
    public var primary: DetectedStack?
    /// Every candidate, best first, in the same order as `primary` was chosen.
    public var candidates: [DetectedStack]
    /// `true` when two or more top-level directories each hold a real application and the root does not.
    public var isMonorepo: Bool
    /// One stack per application directory, sorted by `directory`. For a single-app repository this is
    /// `[primary]`; empty when `primary` is `nil`.
    public var stacks: [DetectedStack]

    /// Creates a report.
    public init(primary: DetectedStack?, candidates: [DetectedStack], isMonorepo: Bool, stacks: [DetectedStack]) {
        self.primary = primary
        self.candidates = candidates
        self.isMonorepo = isMonorepo
        self.stacks = stacks
    }
}
