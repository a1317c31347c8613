// swift-tools-version:6.1
import PackageDescription
import class Foundation.ProcessInfo

// A fast loop while working on one part: `SESSIONKIT_ONLY=core swift test --scratch-path .build-core`
// builds and tests only the framework-free core; `SESSIONKIT_ONLY=sqlite` adds the SQLite store. Unset:
// everything. Keep such builds out of `.build` (their own --scratch-path), or the full build may link
// modules compiled against an older layout of the core's types.
// `SESSIONKIT_ONLY=fuzz` declares the libFuzzer targets of Fuzz/ (the core instrumented, NIOCore for
// the RESP parser); scripts/fuzz builds and runs them. No other build sees them.
let only = ProcessInfo.processInfo.environment["SESSIONKIT_ONLY"]
let withFuzz = only == "fuzz"
let withSQLite = only == nil || only == "sqlite"
let withPostgres = only == nil || only == "postgres"
let withRedis = only == nil || only == "redis"
let withEverything = only == nil
let withNIO = withSQLite || withRedis || withPostgres || withFuzz

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

var products: [Product] = [
    .library(name: "SessionKit", targets: ["SessionKit"]),
    // For store authors and tests: the store contract, a fault-injecting store, cookie-jar helpers.
    .library(name: "SessionKitTesting", targets: ["SessionKitTesting"]),
]
var dependencies: [Package.Dependency] = [
    .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
    .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    .package(url: "https://github.com/apple/swift-metrics.git", from: "2.4.0"),
    .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.1.0"),
    // `swift package generate-documentation` (scripts/docs); no code of it is linked.
    .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.4.0"),
]
var targets: [Target] = [
    .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
    .target(
        name: "SessionKit",
        dependencies: [
            "CZlib",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
        ],
        swiftSettings: swiftSettings
    ),
    .target(
        name: "SessionKitTesting",
        dependencies: ["SessionKit", .product(name: "Logging", package: "swift-log")],
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "SessionKitTests",
        dependencies: [
            "SessionKit",
            "SessionKitTesting",
            .product(name: "MetricsTestKit", package: "swift-metrics"),
            .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
        ],
        resources: [.copy("Fixtures")],
        swiftSettings: swiftSettings
    ),
]

if withNIO {
    dependencies.append(.package(url: "https://github.com/apple/swift-nio.git", from: "2.65.0"))
}
if withRedis || withPostgres {
    // TLS to Redis (rediss://) and to PostgreSQL (sslmode=require|verify-full).
    dependencies.append(.package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.27.0"))
}

if withRedis || withPostgres {
    // The pipelined connection pool of SessionKit's Redis and PostgreSQL clients.
    targets.append(.target(
        name: "SessionKitConnectionPool",
        dependencies: [.product(name: "NIOCore", package: "swift-nio")],
        swiftSettings: swiftSettings
    ))
}

if withSQLite {
    products.append(.library(name: "SessionKitSQLite", targets: ["SessionKitSQLite"]))
    // The store calls SQLite's C API through sqlite-nio's copy of SQLite (its VaporCSQLite module,
    // named as of 1.13); SQLiteNIO itself serves the tests.
    dependencies.append(.package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.0"))
    targets += [
        .target(
            name: "SessionKitSQLite",
            dependencies: [
                "SessionKit",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionKitSQLiteTests",
            dependencies: ["SessionKitSQLite", "SessionKitTesting"],
            swiftSettings: swiftSettings
        ),
    ]
}

if withPostgres {
    products.append(.library(name: "SessionKitPostgres", targets: ["SessionKitPostgres"]))
    dependencies.append(.package(url: "https://github.com/vapor/postgres-nio.git", from: "1.21.0"))
    targets += [
        .target(
            name: "SessionKitPostgres",
            dependencies: [
                "SessionKit",
                "SessionKitConnectionPool",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // SessionKit's own connections for the request path (Sources/SessionKitPostgres/Wire).
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionKitPostgresTests",
            dependencies: ["SessionKitPostgres", "SessionKitTesting", "SessionKitConnectionPool"],
            swiftSettings: swiftSettings
        ),
    ]
}

if withRedis {
    products.append(.library(name: "SessionKitRedis", targets: ["SessionKitRedis"]))
    targets += [
        .target(
            name: "SessionKitRedis",
            dependencies: [
                "SessionKit",
                "SessionKitConnectionPool",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionKitRedisTests",
            dependencies: [
                "SessionKitRedis",
                "SessionKitTesting",
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
}

if withEverything {
    products += [
        .library(name: "SessionKitHummingbird", targets: ["SessionKitHummingbird"]),
        .library(name: "SessionKitHummingbirdTesting", targets: ["SessionKitHummingbirdTesting"]),
        .library(name: "SessionKitHummingbirdAuth", targets: ["SessionKitHummingbirdAuth"]),
        .library(name: "SessionKitVapor", targets: ["SessionKitVapor"]),
        .executable(name: "sessionkit", targets: ["SessionKitCLI"]),
        .executable(name: "sessionkit-demo", targets: ["SessionKitDemo"]),
        .executable(name: "sessionkit-vapor-demo", targets: ["SessionKitVaporDemo"]),
    ]
    dependencies += [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.115.0"),
    ]
    targets += [
        .target(
            name: "SessionKitHummingbird",
            dependencies: [
                "SessionKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SessionKitHummingbirdTesting",
            dependencies: [
                "SessionKit",
                "SessionKitHummingbird",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        // HummingbirdAuth's identity from the session's `_user_id`, in its own module so that apps
        // without HummingbirdAuth do not build it.
        .target(
            name: "SessionKitHummingbirdAuth",
            dependencies: [
                "SessionKit",
                "SessionKitHummingbird",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
            ],
            swiftSettings: swiftSettings
        ),
        // The same engine for Vapor 4: a native AsyncMiddleware and a drop-in AsyncSessionDriver.
        .target(
            name: "SessionKitVapor",
            dependencies: [
                "SessionKit",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionKitVaporTests",
            dependencies: [
                "SessionKit",
                "SessionKitVapor",
                "SessionKitSQLite",
                "SessionKitPostgres",
                "SessionKitRedis",
                "SessionKitTesting",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "VaporTesting", package: "vapor"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The README's first example, compiled exactly as it is shown (scripts/readme-example checks
        // that the two are identical, then runs it). Without the package's upcoming-feature settings,
        // as in a new package of a user's own.
        .executableTarget(
            name: "SessionKitGettingStarted",
            dependencies: [
                "SessionKitHummingbird",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Examples/GettingStarted"
        ),
        // The folder is SessionKitCLI, not sessionkit: on macOS's case-insensitive file system a
        // `Sources/sessionkit` checks out into `Sources/SessionKit`. The product keeps the name.
        .executableTarget(
            name: "SessionKitCLI",
            dependencies: [
                "SessionKit",
                "SessionKitSQLite",
                "SessionKitRedis",
                "SessionKitPostgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // What both demo servers (Hummingbird's sessionkit-demo, Vapor's sessionkit-vapor-demo) share
        // and that needs no web framework: the command-line options, Flask's counter and typed value,
        // HTML escaping, query decoding, the cross-site rule and security headers, opening the store.
        .target(
            name: "SessionKitDemoSupport",
            dependencies: [
                "SessionKit",
                "SessionKitSQLite",
                "SessionKitRedis",
                "SessionKitPostgres",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SessionKitDemoApp",
            dependencies: [
                "SessionKit",
                "SessionKitDemoSupport",
                "SessionKitSQLite",
                "SessionKitRedis",
                "SessionKitPostgres",
                "SessionKitHummingbird",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "SessionKitDemo",
            dependencies: [
                "SessionKit",
                "SessionKitDemoApp",
                "SessionKitDemoSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // The demo's tutorial routes on Vapor (the Flask interop suite's `vapor` peer).
        .executableTarget(
            name: "SessionKitVaporDemo",
            dependencies: [
                "SessionKit",
                "SessionKitDemoSupport",
                "SessionKitVapor",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionKitCLITests",
            dependencies: ["SessionKit", "SessionKitSQLite", "SessionKitRedis", "SessionKitPostgres", "SessionKitTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionKitHummingbirdTests",
            dependencies: [
                "SessionKitHummingbird",
                "SessionKitHummingbirdTesting",
                "SessionKitTesting",
                "SessionKitDemoApp",
                "SessionKitDemoSupport",
                "SessionKitSQLite",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionKitHummingbirdAuthTests",
            dependencies: [
                "SessionKit",
                "SessionKitHummingbird",
                "SessionKitHummingbirdAuth",
                "SessionKitHummingbirdTesting",
                "SessionKitTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
}

if withFuzz {
    // Coverage and AddressSanitizer on our own modules only (the dependencies stay plain, which
    // keeps the build short and the coverage about our parsers). Debug builds compile with
    // -enable-testing, so a target can `@testable import` internal parsers.
    let instrumented: [SwiftSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]
    let linked: [LinkerSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]
    for index in targets.indices where targets[index].name == "SessionKit" {
        targets[index].swiftSettings = (targets[index].swiftSettings ?? []) + instrumented
    }
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzRequestCookies", ["SessionKit"]),
        ("FuzzSetCookie", ["SessionKit"]),
        ("FuzzCookieDate", ["SessionKit"]),
        ("FuzzEncryptedCodec", ["SessionKit", .product(name: "Crypto", package: "swift-crypto")]),
        ("FuzzSignedCodec", ["SessionKit", .product(name: "Crypto", package: "swift-crypto")]),
        ("FuzzFlaskCodec", ["SessionKit"]),
        ("FuzzFlaskJSON", ["SessionKit"]),
        ("FuzzSessionRecord", ["SessionKit"]),
        ("FuzzSessionID", ["SessionKit"]),
        ("FuzzRESP", ["FuzzRESPParser", .product(name: "NIOCore", package: "swift-nio")]),
    ]
    // libFuzzer's LLVMFuzzerRunDriver, which each target's main calls.
    targets.append(.target(name: "FuzzDriver", path: "Fuzz/FuzzDriver"))
    // The RESP parser's two files, linked into Fuzz/FuzzRESPParser (SessionKitRedis would bring
    // NIOSSL; an executable of several files would want a main of its own beside libFuzzer's).
    targets.append(.target(
        name: "FuzzRESPParser",
        dependencies: [.product(name: "NIOCore", package: "swift-nio")],
        path: "Fuzz/FuzzRESPParser",
        swiftSettings: swiftSettings + instrumented
    ))
    for fuzzTarget in fuzzTargets {
        targets.append(.executableTarget(
            name: fuzzTarget.name,
            dependencies: ["FuzzDriver"] + fuzzTarget.dependencies,
            path: "Fuzz/\(fuzzTarget.name)",
            swiftSettings: swiftSettings + instrumented + [.unsafeFlags(["-parse-as-library"])],
            linkerSettings: linked
        ))
    }
}

let package = Package(
    name: "SessionKit",
    platforms: [.macOS(.v15)],
    products: products,
    dependencies: dependencies,
    targets: targets,
    swiftLanguageModes: [.v6]
)
