/// A typed session key: the name and the type of its value in one place.
///
/// ```swift
/// extension SessionKey where Value == Cart {
///     static let cart = SessionKey("cart")
/// }
/// context.session[.cart] = Cart(items: ["apple"])
/// let cart = context.session[.cart]       // Cart?
/// ```
public struct SessionKey<Value: Codable & Sendable>: Sendable, Hashable {
    /// The key's name in the session.
    public let name: String

    public init(_ name: String) {
        self.name = name
    }
}
