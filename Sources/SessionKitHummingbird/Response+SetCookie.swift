import HTTPTypes
public import Hummingbird
public import SessionKit

extension Response {
    /// Adds a `Set-Cookie` header for `cookie` (Flask's `response.set_cookie`). The cookie was
    /// validated when it was made, so what is sent is what browsers accept.
    ///
    /// ```swift
    /// var response = Response(status: .ok)
    /// response.setCookie(try SetCookie(name: "user", value: "alice", maxAge: 3600, httpOnly: true))
    /// ```
    public mutating func setCookie(_ cookie: SetCookie) {
        headers.append(HTTPField(name: .setCookie, value: cookie.headerValue))
    }

    /// Removes `cookie` from the browser (Flask's `response.delete_cookie`): the same name,
    /// Domain, Path, Secure, SameSite and Partitioned it was set with, `Max-Age=0` and an
    /// `Expires` in 1970.
    ///
    /// ```swift
    /// response.deleteCookie(try SetCookie(name: "user", value: "", path: "/account"))
    /// ```
    public mutating func deleteCookie(_ cookie: SetCookie) {
        setCookie(cookie.deletion())
    }

    /// Removes the cookie `name` set with these attributes.
    ///
    /// ```swift
    /// try response.deleteCookie(named: "user")
    /// ```
    public mutating func deleteCookie(
        named name: String, domain: String? = nil, path: String? = "/", secure: Bool = false,
        httpOnly: Bool = false, sameSite: SetCookie.SameSite? = nil, partitioned: Bool = false
    ) throws {
        deleteCookie(try SetCookie(name: name, value: "", domain: domain, path: path, secure: secure, httpOnly: httpOnly, sameSite: sameSite, partitioned: partitioned))
    }
}

extension Request {
    /// Every value of the cookie `name`, in header order (Flask's `request.cookies.getlist`).
    /// Inside a ``SessionKitMiddleware``, `context.cookies` has them parsed already.
    ///
    /// ```swift
    /// let themes = request.cookieValues("theme")
    /// ```
    public func cookieValues(_ name: String) -> [String] {
        RequestCookies(headers: headers[values: .cookie]).all(name)
    }

    /// The first value of the cookie `name` (Flask's `request.cookies.get`).
    ///
    /// ```swift
    /// let user = request.cookieValue("user") ?? "anonymous"
    /// ```
    public func cookieValue(_ name: String) -> String? {
        RequestCookies(headers: headers[values: .cookie]).first(name)
    }
}
