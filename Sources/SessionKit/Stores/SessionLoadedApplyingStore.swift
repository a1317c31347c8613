/// A store that can apply a request's delta more cheaply when it knows the session as the request
/// loaded it (``StoredSession/revision``): it writes the loaded values with the delta applied, on
/// the condition that the stored row is still at the loaded revision, and when it is not (another
/// request changed the session meanwhile) applies the delta as ``SessionStore/apply(_:to:expiresAt:)``
/// does, so no concurrent change is lost either way. The engine calls it for a session it loaded
/// and did not rename.
///
/// PostgreSQL's store is one: its delta merge (`sessionkit_apply_delta`, PL/pgSQL) costs the
/// database more than the rest of the `UPDATE` together, and the conditional write needs none.
///
/// ```swift
/// if let store = store as? any SessionLoadedApplyingStore, loaded.revision != nil {
///     changed = try await store.apply(delta, to: key, expiresAt: deadline, loaded: loaded)
/// }
/// ```
package protocol SessionLoadedApplyingStore: SessionStore {
    /// As ``SessionStore/apply(_:to:expiresAt:)``, for a session loaded as `loaded`.
    func apply(_ delta: SessionDelta, to key: SessionStorageKey, expiresAt: Int64, loaded: StoredSession) async throws -> Bool
}

extension SessionDelta {
    /// `values` with this delta applied: the values replaced, or the removed keys removed and the
    /// set keys set (a key both removed and set ends up set, as every store applies it); `nil` for
    /// a delta with operations, which only a store applies (against the values it holds then).
    package func applied(to values: [String: SessionValue]) -> [String: SessionValue]? {
        switch self {
        case .replaceAll(let all):
            return all
        case .update(let set, let remove):
            var values = values
            for key in remove { values[key] = nil }
            for (key, value) in set { values[key] = value }
            return values
        case .updateApplying:
            return nil
        }
    }
}
