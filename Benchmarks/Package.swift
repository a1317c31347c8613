// swift-tools-version:6.1
// SessionKit's benchmarks: a package of its own so that library users never build benchmark tooling.
//
//   swift package --package-path Benchmarks benchmark          # micro benchmarks (ordo-one/benchmark)
//   Benchmarks/http/run                                        # HTTP benchmark (wrk) of every variant
//   Benchmarks/http/run --with-servers                         # ... with PostgreSQL and Redis started for it
//   Benchmarks/smoke                                           # only checks that everything builds
import PackageDescription

let package = Package(
    name: "SessionKitBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "SessionKit", path: "../"),
        // The malloc interposer counts allocations; the runtime interposer is not mirrored here.
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        // Vapor's sessions, a second peer: memory, and Fluent on SQLite and PostgreSQL (the same
        // kinds of store as SessionKit's, which hummingbird-auth has no drivers for here).
        .package(url: "https://github.com/vapor/vapor.git", from: "4.115.0"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.12.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.8.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.10.0"),
    ],
    targets: [
        .executableTarget(
            name: "SessionKitBenchmarks",
            dependencies: [
                "BenchmarkFixtures",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SessionKit", package: "SessionKit"),
                .product(name: "SessionKitSQLite", package: "SessionKit"),
                .product(name: "SessionKitPostgres", package: "SessionKit"),
                .product(name: "SessionKitRedis", package: "SessionKit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/SessionKitBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v5)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .target(
            name: "BenchmarkFixtures",
            dependencies: [.product(name: "SessionKit", package: "SessionKit")],
            path: "Sources/BenchmarkFixtures"
        ),
        // One operation in a loop, for `valgrind --tool=callgrind` (instruction counts do not depend
        // on what else the machine runs) and for memory use without the malloc interposer.
        .executableTarget(
            name: "SessionKitProfile",
            dependencies: [
                "BenchmarkFixtures",
                .product(name: "SessionKit", package: "SessionKit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/SessionKitProfile"
        ),
        .executableTarget(
            name: "SessionKitHTTPBench",
            dependencies: [
                .product(name: "SessionKit", package: "SessionKit"),
                .product(name: "SessionKitSQLite", package: "SessionKit"),
                .product(name: "SessionKitPostgres", package: "SessionKit"),
                .product(name: "SessionKitRedis", package: "SessionKit"),
                .product(name: "SessionKitHummingbird", package: "SessionKit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/SessionKitHTTPBench"
        ),
        // The same routes from a Vapor 4 application with Vapor's own sessions, or SessionKit's on
        // Vapor (SessionKitVapor; the vapor-sk-* variants); Benchmarks/http/run starts it for the
        // vapor* variants.
        .executableTarget(
            name: "SessionKitVaporBench",
            dependencies: [
                .product(name: "SessionKit", package: "SessionKit"),
                .product(name: "SessionKitVapor", package: "SessionKit"),
                .product(name: "SessionKitSQLite", package: "SessionKit"),
                .product(name: "SessionKitPostgres", package: "SessionKit"),
                .product(name: "SessionKitRedis", package: "SessionKit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
            ],
            path: "Sources/SessionKitVaporBench"
        ),
    ],
    swiftLanguageModes: [.v6]
)
