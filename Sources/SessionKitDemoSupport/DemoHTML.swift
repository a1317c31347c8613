/// HTML escaping for what the demo echoes inside `text/html`: the five characters that can end a
/// text node or an attribute value, written as MarkupSafe writes them (Flask's `escape`), so a
/// Flask app that escapes its echoes answers the same bytes.
///
/// ```swift
/// DemoHTML.escape(#"<b>"Tom" & 'Jerry'</b>"#)   // &lt;b&gt;&#34;Tom&#34; &amp; &#39;Jerry&#39;&lt;/b&gt;
/// ```
package enum DemoHTML {
    package static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "'") }) else {
            return text
        }
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&#34;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
