/// The language family of a detected stack. Raw values are the `language` strings of the API's `stack`
/// object (docs/API.md "Pipelines").
///
/// The declaration order is the fixed tie-break order of `StackDetector` (earlier wins on equal score):
/// language manifests first, then static sites, then a bare Dockerfile.
public enum StackLanguage: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// JavaScript/TypeScript on Node.js (`package.json`).
    case node
    /// Python (`pyproject.toml`, `requirements.txt`, `Pipfile`, `setup.py`).
    case python
    /// Go (`go.mod`).
    case go
    /// Ruby (`Gemfile`).
    case ruby
    /// PHP (`composer.json`).
    case php
    /// Java or Kotlin on the JVM (`pom.xml`, `build.gradle`, `build.gradle.kts`).
    case java
    /// .NET (`*.csproj`).
    case dotnet
    /// Rust (`Cargo.toml`).
    case rust
    /// Swift (`Package.swift`).
    case swift
    /// A static site: `index.html` without a language manifest in the same directory.
    case staticSite = "static"
    /// Only a `Dockerfile`: built and run as a container.
    case docker

    /// Position in the tie-break order (0 = preferred).
    public var tieBreakRank: Int { Self.allCases.firstIndex(of: self) ?? Self.allCases.count }

    /// Orders by `tieBreakRank`.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.tieBreakRank < rhs.tieBreakRank }
}
