/*! goal17 embed v1 - renders snippets/*.json into every [data-goal17] element.
 * Docs (usage, theming with --goal17-* custom properties): docs/partners.md
 * Safety: textContent and setAttribute only, http(s) links only, no errors escape. */
(function () {
  "use strict";
  var W = window, D = document;
  var WORDS = {
    sv: { fail: "Nyheterna kunde inte visas just nu. Läs dem på", none: "Inga nyheter ännu.", more: "Alla nyheter" },
    en: { fail: "The news could not be shown right now. Read it at", none: "No updates yet.", more: "All updates" }
  };
  var NAME = /^(latest|targets\/17\.\d{1,2}|groups\/[a-z0-9-]{1,40}|lang\/[a-z]{2}\/latest)$/;
  var RULES =
    ".g17-w{display:block;box-sizing:border-box;margin:0;text-align:left;overflow-wrap:anywhere;" +
    "font:var(--goal17-font,15px/1.45 system-ui,sans-serif);color:var(--goal17-color,#1b1b1b);" +
    "background:var(--goal17-bg,#fff);border:var(--goal17-border,1px solid #d0d4d9);" +
    "border-radius:var(--goal17-radius,6px);padding:var(--goal17-padding,1rem 1.1rem)}" +
    ".g17-w a{color:var(--goal17-accent,#19486a);text-underline-offset:2px}" +
    ".g17-w a:focus-visible{outline:2px solid var(--goal17-accent,#19486a);outline-offset:2px}" +
    ".g17-title{font-size:var(--goal17-title-size,1.2em);line-height:1.25;margin:0 0 .5em}" +
    ".g17-list{list-style:none;margin:0;padding:0}" +
    ".g17-item{margin:0;padding:.65em 0;border-top:1px solid var(--goal17-rule,#e3e6ea)}" +
    ".g17-item-title{font-size:1em;line-height:1.3;margin:0 0 .2em}" +
    ".g17-meta{margin:0 0 .25em;font-size:.85em;color:var(--goal17-muted,#555d66)}" +
    ".g17-summary{margin:0}.g17-more,.g17-empty,.g17-fail{margin:.6em 0 0}";

  // document.currentScript is null when an async script runs late: then find ourselves by src.
  function ownSrc() {
    var s = D.currentScript, all = D.getElementsByTagName("script");
    if (s && s.src) return s.src;
    for (var i = all.length - 1; i >= 0; i--) if (/\/embed\.js([?#]|$)/.test(all[i].src)) return all[i].src;
    return "";
  }
  var BASE = ownSrc().replace(/[?#].*$/, "").replace(/[^\/]*$/, "");
  var SITE = BASE.replace(/snippets\/$/, "");
  var pending = {};

  function safeUrl(u) {
    try {
      var x = new URL(String(u));
      return /^https?:$/.test(x.protocol) ? x.href : null;
    } catch (e) {
      return null;
    }
  }

  function el(tag, cls, text) {
    var e = D.createElement(tag);
    if (cls) e.className = "g17-" + cls;
    if (text != null) e.textContent = String(text);
    return e;
  }

  function link(href, text) {
    var h = safeUrl(href), a;
    if (!h) return D.createTextNode(String(text));
    a = el("a", "", text);
    a.setAttribute("href", h);
    return a;
  }

  function langOf(v) {
    return typeof v == "string" && /^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(v) ? v : null;
  }

  function clear(n) {
    while (n.firstChild) n.removeChild(n.firstChild);
  }

  function mount(host) {
    var box = el("section", "w"), root = null, st;
    try {
      root = host.shadowRoot || host.attachShadow({ mode: "open" });
    } catch (e) {}
    if (root) {
      clear(root);
      root.appendChild(el("style", "", ":host{all:initial;display:block}" + RULES));
    } else {
      // No Shadow DOM: prefixed class names and one shared style element instead.
      clear(host);
      if (!D.getElementById("g17-style")) {
        st = el("style", "", RULES);
        st.id = "g17-style";
        (D.head || D.documentElement).appendChild(st);
      }
      root = host;
    }
    root.appendChild(box);
    return box;
  }

  function fail(box, o) {
    try {
      clear(box);
      box.setAttribute("lang", o.lang);
      var p = el("p", "fail", WORDS[o.lang].fail + " ");
      p.appendChild(link(o.page, new URL(SITE).host));
      box.appendChild(p);
    } catch (e) {}
  }

  function render(box, data, o) {
    var lang = o.filter || langOf(data.lang) || o.lang, words = WORDS[lang] || WORDS.sv;
    var items = (Array.isArray(data.items) ? data.items : []).filter(function (it) {
      return it && typeof it == "object" && (!o.filter || it.lang === o.filter);
    }).slice(0, o.limit);
    var h = el("h" + o.level, "title"), ul = el("ul", "list"), more = el("p", "more");
    clear(box);
    box.setAttribute("lang", lang);
    h.appendChild(link(data.page_url, data.title || ""));
    box.appendChild(h);
    items.forEach(function (it) {
      var li = el("li", "item"), t = el("h" + (o.level + 1), "item-title"), meta = el("p", "meta");
      var time = el("time", "", it.display_date || it.date || ""), l = langOf(it.lang);
      var ids = (Array.isArray(it.targets) ? it.targets : []).map(function (x) { return x && x.id; });
      if (l) li.setAttribute("lang", l);
      t.appendChild(link(it.url, it.title || ""));
      if (typeof it.date == "string") time.setAttribute("datetime", it.date);
      meta.appendChild(time);
      if (ids.length) meta.appendChild(D.createTextNode(" · " + ids.join(", ")));
      li.appendChild(t);
      li.appendChild(meta);
      if (it.summary) li.appendChild(el("p", "summary", it.summary));
      ul.appendChild(li);
    });
    box.appendChild(items.length ? ul : el("p", "empty", words.none));
    more.appendChild(link(data.page_url || data.home_url, words.more));
    box.appendChild(more);
  }

  function load(url) {
    if (!pending[url]) {
      var ctl = W.AbortController ? new AbortController() : null;
      var timer = ctl && setTimeout(function () { ctl.abort(); }, 15000);
      pending[url] = W.fetch(url, { credentials: "omit", mode: "cors", signal: ctl ? ctl.signal : undefined })
        .then(function (r) {
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.json();
        })
        .then(function (d) {
          clearTimeout(timer);
          if (!d || typeof d != "object") throw new Error("not a snippet");
          return d;
        });
    }
    return pending[url];
  }

  function one(host) {
    if (host.goal17Done) return;
    host.goal17Done = true;
    var name = host.getAttribute("data-goal17") || "latest", filter = langOf(host.getAttribute("data-lang"));
    var limit = parseInt(host.getAttribute("data-limit"), 10), level = parseInt(host.getAttribute("data-heading"), 10);
    var o = {
      filter: filter,
      lang: WORDS[filter] ? filter : /^en\b/.test(D.documentElement.lang) ? "en" : "sv",
      limit: limit > 0 ? Math.min(limit, 50) : 5,
      level: level >= 2 && level <= 5 ? level : 2,
      page: /^targets\//.test(name) ? SITE + name + "/" : SITE
    };
    var box = mount(host);
    if (!NAME.test(name) || !W.fetch || !SITE) return fail(box, o);
    load(BASE + name + ".json").then(function (data) {
      render(box, data, o);
    }).catch(function () {
      fail(box, o);
    });
  }

  function scan() {
    var nodes = D.querySelectorAll("[data-goal17]");
    for (var i = 0; i < nodes.length; i++) {
      try {
        one(nodes[i]);
      } catch (e) {} // one broken container must not stop the others
    }
  }

  try {
    W.goal17 = W.goal17 || { scan: scan };
    if (D.readyState == "loading") D.addEventListener("DOMContentLoaded", scan);
    else scan();
  } catch (e) {}
})();
