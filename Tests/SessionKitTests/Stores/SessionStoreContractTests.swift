import SessionKitTesting
import Synchronization
import Testing
@testable import SessionKit

/// The contract itself: a plain dictionary store (an afternoon's work) passes it, and each
/// deliberately broken variant is caught by the check meant for its bug.
@Suite("SessionStoreContract")
struct SessionStoreContractTests {
    enum Bug: String, Sendable, CaseIterable {
        case none, resurrects, losesUpdates, ignoresExpiry, renameKeepsOld, cleanupRemovesLive, createOverwrites, noIndexOnRename
        /// Cleanup goes by the deadline a session was created with, not the one writes moved it to.
        case cleanupByFirstDeadline
        /// Cleanup never looks at a session before its first deadline, even when a write brought it earlier.
        case cleanupMissesShortenedDeadlines
        /// Applies a delta's sets and removes but drops its operations.
        case ignoresOperations
        /// Applies operations to the value the request loaded, not the one stored now (what a
        /// handler that reads, changes and assigns a value does).
        case operatesOnStaleValue
    }

    final class DictionaryStore: SessionUserIndex {
        let bug: Bug
        let clock: @Sendable () -> Int64
        let sessions = Mutex<[SessionStorageKey: StoredSession]>([:])
        /// Each session's deadline when it was created, for the cleanup bugs.
        let firstDeadlines = Mutex<[SessionStorageKey: Int64]>([:])

        init(bug: Bug, clock: @escaping @Sendable () -> Int64) {
            self.bug = bug
            self.clock = clock
        }

        private func live(_ session: StoredSession?, _ now: Int64) -> StoredSession? {
            guard let session, bug == .ignoresExpiry || session.expiresAt > now else { return nil }
            return session
        }

        func load(_ key: SessionStorageKey) async throws -> StoredSession? {
            let now = clock()
            return sessions.withLock { live($0[key], now) }
        }

        func create(_ key: SessionStorageKey, _ session: StoredSession) async throws {
            let now = clock()
            var session = session
            session.values = session.values.mapValues { SessionValue(json: $0.jsonBytes) }
            try sessions.withLock { sessions throws(SessionStoreError) in
                if bug != .createOverwrites, live(sessions[key], now) != nil { throw SessionStoreError(.alreadyExists, "exists") }
                sessions[key] = session
            }
            firstDeadlines.withLock { $0[key] = session.expiresAt }
        }

        func apply(_ delta: SessionDelta, to key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
            var delta = delta
            if case .updateApplying(let set, let remove, let operations) = delta {
                if operations.contains(where: { $0.key == StoredSession.userIDKey }) {
                    throw SessionStoreError(.invalidOperation, "an operation on the user ID")
                }
                if bug == .ignoresOperations { delta = .update(set: set, remove: remove) }
                if bug == .operatesOnStaleValue {
                    let now = clock()
                    guard var values = sessions.withLock({ live($0[key], now) })?.values else { return false }
                    SessionRecordCoding.apply(delta, to: &values)
                    try await Task.sleep(for: .milliseconds(1))
                    var assigned: [String: SessionValue] = [:]
                    for key in Set(operations.map(\.key)) { assigned[key] = values[key] }
                    delta = .update(set: set.merging(assigned) { $1 }, remove: remove)
                }
            }
            let now = clock()
            var session: StoredSession
            if let current = sessions.withLock({ live($0[key], now) }) {
                session = current
            } else if bug == .resurrects {
                session = StoredSession(values: [:], createdAt: now, expiresAt: expiresAt, absoluteExpiresAt: expiresAt)
            } else {
                return false
            }
            if bug == .losesUpdates {
                try await Task.sleep(for: .milliseconds(1))
            } else if bug != .resurrects {
                return sessions.withLock { sessions in
                    guard var session = live(sessions[key], now) else { return false }
                    Self.merge(delta, into: &session, expiresAt: expiresAt, now: now)
                    sessions[key] = session
                    return true
                }
            }
            Self.merge(delta, into: &session, expiresAt: expiresAt, now: now)
            sessions.withLock { $0[key] = session }
            return true
        }

        static func merge(_ delta: SessionDelta, into session: inout StoredSession, expiresAt: Int64, now: Int64) {
            SessionRecordCoding.apply(delta, to: &session.values)
            session.values = session.values.mapValues { SessionValue(json: $0.jsonBytes) }
            session.expiresAt = min(expiresAt, session.absoluteExpiresAt)
            session.lastSeenAt = now
        }

        func touch(_ key: SessionStorageKey, expiresAt: Int64) async throws -> Bool {
            let now = clock()
            return sessions.withLock { sessions in
                guard var session = live(sessions[key], now) else { return false }
                session.expiresAt = min(expiresAt, session.absoluteExpiresAt)
                session.lastSeenAt = now
                sessions[key] = session
                return true
            }
        }

        func delete(_ key: SessionStorageKey) async throws {
            _ = sessions.withLock { $0.removeValue(forKey: key) }
        }

        func rename(_ old: SessionStorageKey, to new: SessionStorageKey) async throws -> Bool {
            let now = clock()
            return try sessions.withLock { sessions throws(SessionStoreError) in
                guard var session = live(sessions[old], now) else { return false }
                if live(sessions[new], now) != nil { throw SessionStoreError(.alreadyExists, "exists") }
                if bug == .noIndexOnRename { session.values[StoredSession.userIDKey] = nil }
                sessions[new] = session
                if bug != .renameKeepsOld { sessions[old] = nil }
                return true
            }
        }

        func removeExpired() async throws -> Int {
            let now = clock()
            let firstDeadlines = firstDeadlines.withLock { $0 }
            return sessions.withLock { sessions in
                let expired = sessions.filter { key, session in
                    let first = firstDeadlines[key] ?? session.expiresAt
                    switch bug {
                    case .cleanupRemovesLive: return true
                    case .cleanupByFirstDeadline: return first <= now
                    case .cleanupMissesShortenedDeadlines: return max(first, session.expiresAt) <= now
                    default: return session.expiresAt <= now
                    }
                }.map(\.key)
                for key in expired { sessions[key] = nil }
                return expired.count
            }
        }

        // A scan is fine for a reference implementation.
        func sessions(ofUser userID: String) async throws -> [UserSessionInfo] {
            let now = clock()
            return sessions.withLock { sessions in
                sessions.compactMap { key, session -> UserSessionInfo? in
                    guard session.userID == userID, live(session, now) != nil else { return nil }
                    return UserSessionInfo(
                        key: key, createdAt: session.createdAt, lastSeenAt: session.lastSeenAt, expiresAt: session.expiresAt,
                        absoluteExpiresAt: session.absoluteExpiresAt, userAgent: session.userAgent, ipAddress: session.ipAddress
                    )
                }
            }.sorted { ($0.createdAt, $0.key.hex) < ($1.createdAt, $1.key.hex) }
        }

        func revokeSessions(ofUser userID: String, except: SessionStorageKey?) async throws -> Int {
            let now = clock()
            return sessions.withLock { sessions in
                let keys = sessions.filter { $0.value.userID == userID && $0.key != except }
                for key in keys.keys { sessions[key] = nil }
                return keys.values.filter { $0.expiresAt > now }.count
            }
        }
    }

    @Test(arguments: SessionStoreContract.allChecks)
    func aSimpleCorrectStorePasses(_ check: SessionStoreContractCheck) async throws {
        try await check.run { clock in DictionaryStore(bug: .none, clock: clock) }
    }

    @Test(arguments: [
        (Bug.resurrects, "noResurrection"),
        (.losesUpdates, "concurrentApplies"),
        (.ignoresExpiry, "expiry"),
        (.renameKeepsOld, "rename"),
        (.cleanupRemovesLive, "cleanup"),
        (.createOverwrites, "createOnExistingKeyFails"),
        (.noIndexOnRename, "userIndex"),
        (.cleanupByFirstDeadline, "cleanupFollowsMovedDeadlines"),
        (.cleanupMissesShortenedDeadlines, "cleanupFollowsMovedDeadlines"),
        (.ignoresOperations, "operationsApplyInPlace"),
        (.operatesOnStaleValue, "concurrentOperationsOnOneKey"),
    ])
    func eachBugIsCaught(_ bug: Bug, _ checkName: String) async throws {
        let check = try #require(SessionStoreContract.allChecks.first { $0.name == checkName })
        await #expect(throws: ContractViolation.self) {
            try await check.run { clock in DictionaryStore(bug: bug, clock: clock) }
        }
    }

    @Test func checkNamesAreUnique() {
        let names = SessionStoreContract.allChecks.map(\.name)
        #expect(Set(names).count == names.count)
    }
}
