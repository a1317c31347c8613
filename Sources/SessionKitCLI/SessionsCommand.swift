import ArgumentParser
import Foundation
import SessionKit
import SessionKitSQLite

/// `sessionkit sessions`: see, revoke and purge server-side sessions.
struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "See, revoke and purge server-side sessions (never their IDs).",
        subcommands: [List.self, Revoke.self, Purge.self]
    )

    struct StoreOptions: ParsableArguments {
        @Option(help: "The store: sqlite:PATH, redis://[user[:password]@]host[:port][/db], rediss://... (TLS), or postgres://user[:password]@host[:port]/db[?sslmode=...]. A password not in the URL comes from $SESSIONKIT_STORE_PASSWORD.")
        var store: String
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Count sessions, or list a user's sessions.")
        @OptionGroup var options: StoreOptions
        @Option(help: "List this user's sessions (the session key _user_id).") var user: String?

        func run() async throws {
            try await CommandLineStore.with(options.store, readOnly: true) { [user] opened in
                guard let user else {
                    guard case .sqlite(let sqlite) = opened.kind else {
                        throw ValidationError("counting every session is for sqlite: stores; for Redis and PostgreSQL pass --user")
                    }
                    let stats = try await sqlite.statistics()
                    print("live: \(stats.live)\nexpired (awaiting cleanup): \(stats.expired)\nsigned-in users: \(stats.users)")
                    return
                }
                let sessions = try await opened.index.sessions(ofUser: user)
                print("\(sessions.count) live session\(sessions.count == 1 ? "" : "s") of \(user)")
                for info in sessions {
                    print("\(info.key.hex.prefix(16))  created \(Output.iso(info.createdAt))  last seen \(Output.iso(info.lastSeenAt))  expires \(Output.iso(info.expiresAt))  \(info.userAgent ?? "-")  \(info.ipAddress ?? "")")
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign a user out: all sessions, or one by its key prefix from `list`.")
        @OptionGroup var options: StoreOptions
        @Option(help: "The user whose sessions to revoke.") var user: String
        @Option(help: "Only the session whose key starts with this (from `sessions list --user`).") var session: String?

        func run() async throws {
            try await CommandLineStore.with(options.store) { [user, session] opened in
                let store = opened.index
                if let session {
                    let matches = try await store.sessions(ofUser: user).filter { $0.key.hex.hasPrefix(session.lowercased()) }
                    guard matches.count == 1, session.count >= 8 else {
                        throw ValidationError(matches.isEmpty ? "no session of \(user) starts with \(session)" : "\(session) matches \(matches.count) sessions; give more characters")
                    }
                    try await store.delete(matches[0].key)
                    print("revoked 1 session of \(user)")
                } else {
                    let count = try await store.revokeSessions(ofUser: user)
                    print("revoked \(count) session\(count == 1 ? "" : "s") of \(user)")
                }
            }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove expired sessions now.")
        @OptionGroup var options: StoreOptions

        func run() async throws {
            try await CommandLineStore.with(options.store) { opened in
                let removed = try await opened.index.removeExpired()
                print("removed \(removed) expired session\(removed == 1 ? "" : "s")")
            }
        }
    }
}
