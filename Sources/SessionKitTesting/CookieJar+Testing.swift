import SessionKit

extension CookieJar {
    /// The first stored cookie with that name: a short form for test expectations.
    ///
    /// ```swift
    /// import SessionKitTesting
    ///
    /// var jar = CookieJar()
    /// _ = jar.receive(setCookie: "id=abc; Path=/", scheme: "https", host: "example.com", path: "/", now: Date())
    /// #expect(jar["id"]?.value == "abc")
    /// ```
    public subscript(name: String) -> Cookie? { cookies(named: name).first }
}
