// swift-tools-version:6.1
import PackageDescription

/// Settings shared by every target.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// Tests may rely on transitive imports (VaporTesting re-exports NIO, Fluent, …).
let testSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "pipewright",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pipewright", targets: ["pipewright"]),
        .executable(name: "pipewright-bench", targets: ["pipewright-bench"]),
        .executable(name: "pipewright-fake-bitbucket", targets: ["pipewright-fake-bitbucket"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", from: "4.110.0"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.12.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.8.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.20.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.27.0"),
        .package(url: "https://github.com/mattpolzin/OpenAPIKit.git", from: "6.4.0", traits: []),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/websocket-kit.git", from: "2.15.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.65.0"),
        .package(url: "https://github.com/JohnSundell/Plot.git", from: "0.14.0"),
        .package(url: "https://github.com/pointfreeco/swift-snapshot-testing.git", from: "1.17.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
    ],
    targets: [
        // MARK: - Domain modules (no Vapor, no Fluent)
        .target(
            name: "PipewrightCore",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SSHKeys",
            dependencies: [
                "PipewrightCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "Bitbucket",
            dependencies: [
                "PipewrightCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PipelineConfig",
            dependencies: [
                "PipewrightCore",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "LogStore",
            dependencies: [
                "PipewrightCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        /// Transport-independent realtime: event payloads, the per-execution hub with snapshot + resume,
        /// Engine.IO v4 / Socket.IO v5 codecs.
        .target(
            name: "Realtime",
            dependencies: ["PipewrightCore"],
            swiftSettings: swiftSettings
        ),

        // MARK: - Vapor adapter
        .target(
            name: "App",
            dependencies: [
                "PipewrightCore",
                "SSHKeys",
                "Bitbucket",
                "PipelineConfig",
                "LogStore",
                "Realtime",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Plot", package: "Plot"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["Resources/README.md"],
            // The dashboard's one stylesheet and its ES modules, served by `DashboardAssets`; the common-password
            // list of `PasswordPolicy` (source and licence in Resources/README.md).
            resources: [.copy("Dashboard/Assets"), .copy("Resources/common-passwords.txt")],
            swiftSettings: swiftSettings,
            plugins: ["BuildInfoPlugin"]
        ),
        /// Writes the git commit the binary is built from into the App module (`BuildInfo.commit`;
        /// docs/operations.md "Version"). Runs `git` on every build; "unknown" outside a git checkout.
        .plugin(name: "BuildInfoPlugin", capability: .buildTool()),
        .executableTarget(
            name: "pipewright",
            dependencies: [
                "App",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "pipewright-bench",
            dependencies: [
                "PipewrightCore", "SSHKeys", "LogStore", "PipewrightTesting", "BitbucketFake",
                .product(name: "WebSocketKit", package: "websocket-kit"),
                // PostgresNIO (re-exported) for the log-lines table of `logstore-scale`.
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // Child processes (BenchProcess.swift).
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Benchmarks/pipewright-bench",
            swiftSettings: swiftSettings
        ),

        // MARK: - Test support and tests
        .target(
            name: "PipewrightTesting",
            dependencies: ["PipewrightCore", "SSHKeys"],
            swiftSettings: swiftSettings
        ),
        /// An in-repo fake of Bitbucket Cloud REST 2.0 (with the real API's quirks), served on 127.0.0.1 by tests.
        .target(
            name: "BitbucketFake",
            dependencies: [
                "PipewrightCore",
                .product(name: "Vapor", package: "vapor"),
            ],
            path: "Tests/Support/BitbucketFake",
            swiftSettings: testSwiftSettings
        ),
        /// The fake as a process (JSON commands on stdin) for the browser suite in Tests/browser.
        .executableTarget(
            name: "pipewright-fake-bitbucket",
            dependencies: ["BitbucketFake"],
            path: "Tests/Support/pipewright-fake-bitbucket",
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "BitbucketTests",
            dependencies: ["Bitbucket", "BitbucketFake", "PipewrightCore", "PipewrightTesting"],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "LogStoreTests",
            dependencies: ["LogStore", "PipewrightCore", "PipewrightTesting"],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "RealtimeTests",
            dependencies: ["Realtime", "PipewrightCore"],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "PipelineConfigTests",
            dependencies: ["PipelineConfig", "PipewrightCore"],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "PipewrightCoreTests",
            dependencies: ["PipewrightCore", "PipewrightTesting"],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "SSHKeysTests",
            dependencies: ["SSHKeys", "PipewrightCore", "PipewrightTesting"],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "AppTests",
            dependencies: [
                "App",
                "Realtime",
                "PipewrightTesting",
                "BitbucketFake",
                .product(name: "VaporTesting", package: "vapor"),
                .product(name: "SnapshotTesting", package: "swift-snapshot-testing"),
            ],
            // Reference renderings of the dashboard's pages (DashboardSnapshotTests).
            exclude: ["__Snapshots__"],
            swiftSettings: testSwiftSettings
        ),
    ]
)
