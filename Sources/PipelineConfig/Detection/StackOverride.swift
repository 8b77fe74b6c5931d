/// User corrections applied on top of detection. Every non-`nil` field replaces the detected value.
///
/// When `language` names a language with a detected candidate, that candidate is used as the base
/// (so its evidence and commands come along); otherwise a stack is built from the language's default
/// commands. Overridden fields are recorded as evidence with file `"(override)"`.
public struct StackOverride: Sendable, Hashable, Codable {
    /// Forces the language family.
    public var language: StackLanguage?
    /// Forces the framework name.
    public var framework: String?
    /// Forces the runtime version (used for the build image tag).
    public var runtimeVersion: String?
    /// Forces the package manager.
    public var packageManager: String?
    /// Forces the install command.
    public var installCommand: String?
    /// Forces the build command.
    public var buildCommand: String?
    /// Forces the test command.
    public var testCommand: String?
    /// Forces the start command.
    public var startCommand: String?
    /// Forces the application directory (`""` for the root); selects that directory's candidate.
    public var directory: String?

    /// Creates an override; `nil` fields keep the detected value.
    public init(
        language: StackLanguage? = nil,
        framework: String? = nil,
        runtimeVersion: String? = nil,
        packageManager: String? = nil,
        installCommand: String? = nil,
        buildCommand: String? = nil,
        testCommand: String? = nil,
        startCommand: String? = nil,
        directory: String? = nil
    ) {
        self.language = language
        self.framework = framework
        self.runtimeVersion = runtimeVersion
        self.packageManager = packageManager
        self.installCommand = installCommand
        self.buildCommand = buildCommand
        self.testCommand = testCommand
        self.startCommand = startCommand
        self.directory = directory
    }

    /// `true` when no field is set.
    public var isEmpty: Bool { self == StackOverride() }
}
