/// A store that forwards to another, such as SessionKitTesting's `FaultInjectingSessionStore`:
/// metrics and spans name it after the store it wraps (``SessionObservability/storeKind(of:)``).
///
/// ```swift
/// extension MyWrapper: WrappingSessionStore { package var wrappedStore: any SessionStore { base } }
/// ```
package protocol WrappingSessionStore: SessionStore {
    /// The store calls are forwarded to.
    var wrappedStore: any SessionStore { get }
}
