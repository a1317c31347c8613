import Foundation
import Hummingbird
import SessionKit
import SessionKitHummingbird

/// The "Active sessions" page: the logged-in user's sessions (device, created, last seen), with
/// "sign out this device" and "sign out everywhere else". Sessions are named by their store key, a
/// hash of the ID: showing it reveals nothing that could be used as a cookie.
extension DemoPages {
    func addSessionRoutes(to routes: DemoRoutes) {
        routes.reads.get("/app/sessions") { _, context in
            guard let store else {
                return page("sessions", title: "Active sessions", context: context, values: ["unavailable": true])
            }
            guard let user = context.session[.userID] else { return Response.redirect(to: "/app/login", type: .normal) }
            let current = context.session.storageKey
            let now = clock()
            let rows = try await store.sessions(ofUser: user).map { info -> [String: Any] in
                [
                    "handle": info.key.hex,
                    "device": Self.device(info.userAgent),
                    "created": Self.when(info.createdAt, now: now),
                    "lastSeen": Self.when(info.lastSeenAt, now: now),
                    "current": info.key == current,
                ]
            }
            return page("sessions", title: "Active sessions", context: context, values: ["sessions": rows, "count": rows.count])
        }
        routes.changes.post("/app/sessions/revoke") { request, context in
            guard let store, let user = context.session[.userID] else { return Response.redirect(to: "/app/login", type: .normal) }
            let handle = try await DemoForm(request: request)["session"] ?? ""
            // Only a session of this user can be signed out, whatever handle was posted.
            guard let target = try await store.sessions(ofUser: user).first(where: { $0.key.hex == handle }) else {
                throw HTTPError(.notFound, message: "no such session")
            }
            if target.key == context.session.storageKey {
                context.session.invalidate()
                return Response.redirect(to: "/app", type: .normal)
            }
            try await store.delete(target.key)
            context.session.flash("Signed out that device.", category: "success")
            return Response.redirect(to: "/app/sessions", type: .normal)
        }
        routes.changes.post("/app/sessions/revoke-others") { _, context in
            guard let store, let user = context.session[.userID] else { return Response.redirect(to: "/app/login", type: .normal) }
            let count = try await store.revokeSessions(ofUser: user, except: context.session.storageKey)
            context.session.flash("Signed out \(count) other session\(count == 1 ? "" : "s").", category: "success")
            return Response.redirect(to: "/app/sessions", type: .normal)
        }
    }

    /// A short device name from a User-Agent.
    static func device(_ userAgent: String?) -> String {
        guard let agent = userAgent, !agent.isEmpty else { return "Unknown device" }
        let browsers = [("Edg/", "Edge"), ("Chrome/", "Chrome"), ("Firefox/", "Firefox"), ("Safari/", "Safari"), ("curl/", "curl"), ("python-requests", "Python requests")]
        let systems = [("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Mac OS X", "macOS"), ("Windows", "Windows"), ("Linux", "Linux")]
        let browser = browsers.first { agent.contains($0.0) }?.1
        let system = systems.first { agent.contains($0.0) }?.1
        switch (browser, system) {
        case let (b?, s?): return "\(b) on \(s)"
        case let (b?, nil): return b
        case let (nil, s?): return s
        default: return String(agent.prefix(40))
        }
    }

    /// "just now", "5 minutes ago", or a UTC date.
    static func when(_ seconds: Int64, now: Int64) -> String {
        let age = now - seconds
        switch age {
        case ..<60: return "just now"
        case ..<3600: return "\(age / 60) minute\(age / 60 == 1 ? "" : "s") ago"
        case ..<86400: return "\(age / 3600) hour\(age / 3600 == 1 ? "" : "s") ago"
        default:
            let cookieDate = CookieDate.format(secondsSince1970: seconds)   // Thu, 01 Jan 1970 00:00:00 GMT
            return String(cookieDate.dropFirst(5).dropLast(7)) + " UTC"
        }
    }
}
