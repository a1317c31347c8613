import Mustache

/// The demo's HTML, as Mustache templates: plain server-rendered pages with a little CSS.
enum DemoTemplates {
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        try library.register(layout, named: "layout")
        try library.register(home, named: "home")
        try library.register(login, named: "login")
        try library.register(cart, named: "cart")
        try library.register(sessions, named: "sessions")
        return library
    }

    /// The pages' style sheet, served at `/app/demo.css` (the Content-Security-Policy allows no
    /// inline style).
    static let css = """
    body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
    nav { display: flex; gap: 1rem; align-items: center; border-bottom: 1px solid #ddd; padding-bottom: .5rem; }
    nav .who { margin-left: auto; color: #555; }
    .flash { padding: .5rem .75rem; border-radius: 4px; margin: .75rem 0; background: #eef; }
    .flash.success { background: #e6f6e6; } .flash.error { background: #fbe9e9; }
    table { border-collapse: collapse; } td, th { padding: .25rem .75rem; border-bottom: 1px solid #eee; text-align: left; }
    form.inline { display: inline; } button { cursor: pointer; }

    """

    /// Every value is escaped (`{{name}}`); the one triple mustache, `{{{content}}}`, is a page
    /// these templates rendered (and escaped) first.
    static let layout = """
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <title>{{title}} · SessionKit demo</title>
    <link rel="stylesheet" href="/app/demo.css">
    </head>
    <body>
    <nav><a href="/app">Home</a> <a href="/app/cart">Cart</a>{{#username}} <a href="/app/sessions">Sessions</a>{{/username}}{{#username}}<span class="who">Signed in as <strong id="who">{{username}}</strong></span> <form class="inline" method="post" action="/app/logout"><button id="logout" type="submit">Log out</button></form>{{/username}}{{^username}}<span class="who"><a id="login-link" href="/app/login">Log in</a></span>{{/username}}</nav>
    {{#flashes}}<div class="flash {{category}}" role="status">{{text}}</div>{{/flashes}}
    <main>
    {{{content}}}
    </main>
    </body>
    </html>
    """

    static let home = """
    <h1>SessionKit demo</h1>
    {{#username}}<p id="greeting">Hello, {{username}}!</p>{{/username}}
    {{^username}}<p id="greeting">You are not logged in. <a href="/app/login">Log in</a> to keep a cart.</p>{{/username}}
    <p>This page has been viewed <strong id="visits">{{visits}}</strong> times in this session.</p>
    <p>Your cart holds <strong id="cart-count">{{cartCount}}</strong> items. <a href="/app/cart">Open the cart</a>.</p>
    """

    static let login = """
    <h1>Log in</h1>
    <form method="post" action="/app/login">
    <label>Username <input id="username" name="username" autocomplete="username" required></label>
    <button id="submit" type="submit">Log in</button>
    </form>
    """

    static let cart = """
    <h1>Cart</h1>
    {{#hasItems}}
    <table id="cart">
    <tr><th>Item</th><th>Quantity</th><th></th></tr>
    {{#items}}<tr class="item"><td class="name">{{name}}</td><td class="quantity">{{quantity}}</td><td><form class="inline" method="post" action="/app/cart/remove"><input type="hidden" name="item" value="{{name}}"><button type="submit">Remove one</button></form></td></tr>{{/items}}
    </table>
    {{/hasItems}}
    {{^hasItems}}<p id="empty">Your cart is empty.</p>{{/hasItems}}
    <h2>Add</h2>
    <form method="post" action="/app/cart/add">
    <select id="item" name="item">{{#catalog}}<option value="{{.}}">{{.}}</option>{{/catalog}}</select>
    <button id="add" type="submit">Add to cart</button>
    </form>
    """

    static let sessions = """
    <h1>Active sessions</h1>
    {{#unavailable}}<p id="unavailable">Sessions live in cookies in this mode (start the demo with <code>--store sqlite</code> or <code>--store memory</code> to list them).</p>{{/unavailable}}
    {{^unavailable}}
    <p>You are signed in on <strong id="session-count">{{count}}</strong> device(s).</p>
    <table id="sessions">
    <tr><th>Device</th><th>Signed in</th><th>Last seen</th><th></th></tr>
    {{#sessions}}<tr class="session{{#current}} current{{/current}}"><td class="device">{{device}}{{#current}} <em>(this device)</em>{{/current}}</td><td>{{created}}</td><td>{{lastSeen}}</td><td><form class="inline" method="post" action="/app/sessions/revoke"><input type="hidden" name="session" value="{{handle}}"><button type="submit">Sign out this device</button></form></td></tr>{{/sessions}}
    </table>
    <form method="post" action="/app/sessions/revoke-others"><button id="revoke-others" type="submit">Sign out everywhere else</button></form>
    {{/unavailable}}
    """
}
