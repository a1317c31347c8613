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
        @Option(help: "The store: sqlite:PATH.")
        var store: String

        func open() async throws -> SQLiteSessionStore {
            guard store.hasPrefix("sqlite:"), store.count > 7 else {
                throw ValidationError("--store must be sqlite:PATH (the memory store lives inside its server process)")
            }
            let path = String(store.dropFirst(7))
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("no session database at \(path)") }
            let sqlite = SQLiteSessionStore(path: path)
            do {
                try await sqlite.migrate()
            } catch {
                throw ValidationError("cannot open \(path) as a SessionKit session database: \(error)")
            }
            return sqlite
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Count sessions, or list a user's sessions.")
        @OptionGroup var options: StoreOptions
        @Option(help: "List this user's sessions (the session key _user_id).") var user: String?

        func run() async throws {
            let store = try await options.open()
            guard let user else {
                let stats = try await store.statistics()
                print("live: \(stats.live)\nexpired (awaiting cleanup): \(stats.expired)\nsigned-in users: \(stats.users)")
                try await store.close()
                return
            }
            let sessions = try await store.sessions(ofUser: user)
            print("\(sessions.count) live session\(sessions.count == 1 ? "" : "s") of \(user)")
            for info in sessions {
                print("\(info.key.hex.prefix(16))  created \(Output.iso(info.createdAt))  last seen \(Output.iso(info.lastSeenAt))  expires \(Output.iso(info.expiresAt))  \(info.userAgent ?? "-")  \(info.ipAddress ?? "")")
            }
            try await store.close()
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign a user out: all sessions, or one by its key prefix from `list`.")
        @OptionGroup var options: StoreOptions
        @Option(help: "The user whose sessions to revoke.") var user: String
        @Option(help: "Only the session whose key starts with this (from `sessions list --user`).") var session: String?

        func run() async throws {
            let store = try await options.open()
            if let session {
                let matches = try await store.sessions(ofUser: user).filter { $0.key.hex.hasPrefix(session.lowercased()) }
                guard matches.count == 1, session.count >= 8 else {
                    try await store.close()
                    throw ValidationError(matches.isEmpty ? "no session of \(user) starts with \(session)" : "\(session) matches \(matches.count) sessions; give more characters")
                }
                try await store.delete(matches[0].key)
                print("revoked 1 session of \(user)")
            } else {
                let count = try await store.revokeSessions(ofUser: user)
                print("revoked \(count) session\(count == 1 ? "" : "s") of \(user)")
            }
            try await store.close()
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove expired sessions now.")
        @OptionGroup var options: StoreOptions

        func run() async throws {
            let store = try await options.open()
            let removed = try await store.removeExpired()
            print("removed \(removed) expired session\(removed == 1 ? "" : "s")")
            try await store.close()
        }
    }
}
