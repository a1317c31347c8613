/// Printing or dumping an engine shows where sessions live and the cookie's name, never a key: the
/// codec and the ID signer hold secrets, and a store may hold every session's data.
///
/// ```swift
/// print(engine)   // SessionEngine(storage: cookie(encrypted), cookie: "session", signedIDs: false)
/// ```
extension SessionEngine: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "SessionEngine(storage: \(storage), cookie: \"\(configuration.cookie.name)\", signedIDs: \(idSigner != nil))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["storage": storage, "idSigner": idSigner as Any, "configuration": configuration], displayStyle: .struct)
    }
}

/// The kind of storage and the codec's format or the store's type: neither the codec's keys nor
/// the store's contents.
extension SessionEngine.Storage: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        switch self {
        case .cookie(let codec): return "cookie(\(codec.formatName))"
        case .server(let store): return "server(\(type(of: store)))"
        }
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        switch self {
        case .cookie(let codec): return Mirror(self, children: ["cookie": codec.formatName], displayStyle: .enum)
        case .server(let store): return Mirror(self, children: ["server": "\(type(of: store))"], displayStyle: .enum)
        }
    }
}
