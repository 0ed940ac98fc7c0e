/*! goal17 embed v2 - renders snippets/*.json into every [data-goal17] element.
 * Docs (options, theming with --goal17-* custom properties, size budget): docs/partners.md
 * Safety: textContent and setAttribute only, http(s) links only, no errors escape.
 * The partner's own content inside the element stays visible until the data has arrived. */
(function () {
  "use strict";
  var W = window, D = document;
  // The words per language, from the gettext catalogues: the build writes them in (embed.py).
  var WORDS = /*goal17:words*/{};
  var NAME = /^(latest|targets\/17\.([1-9]|1[0-9])|groups\/[a-z0-9-]{1,40}|lang\/(sv|en)\/latest)$/;
  // Upper bounds of each part's height in em, matching the clamps in RULES: the box reserves
  // them while loading, so the page below does not jump when the news arrives.
  var ITEM = { list: 5, compact: 3.3, cards: 5.6 }, SUMMARY = 3, HEAD = 3.5, MORE = 2.1;
  var CLAMP = "display:-webkit-box;-webkit-box-orient:vertical;overflow:hidden;-webkit-line-clamp:";
  var RULES =
    ":host{all:initial;display:block;font:inherit;color:inherit}" +
    ".g17-w{display:block;box-sizing:border-box;margin:0;text-align:start;overflow-wrap:anywhere;" +
    "font:var(--goal17-font,inherit);line-height:1.4;color:var(--goal17-color,inherit);" +
    "background:var(--goal17-bg,transparent);border:var(--goal17-border,0);" +
    "border-radius:var(--goal17-radius,0);padding:var(--goal17-padding,0)}" +
    ".g17-w a{color:var(--goal17-accent,currentColor);text-decoration:underline;text-underline-offset:2px}" +
    ".g17-w a:focus-visible{outline:2px solid var(--goal17-accent,currentColor);outline-offset:2px}" +
    ".g17-title{font-size:var(--goal17-title-size,1.2em);line-height:1.25;margin:0 0 .5em;" + CLAMP + "2}" +
    ".g17-list{list-style:none;margin:0;padding:0}" +
    ".g17-item{margin:0;padding:var(--goal17-gap,.5em) 0;border-top:1px solid var(--goal17-rule,rgba(128,128,128,.35))}" +
    ".g17-l-compact .g17-item{padding:calc(var(--goal17-gap,.5em)*.7) 0}" +
    ".g17-item-title{font-size:1em;font-weight:600;line-height:1.3;margin:0;" + CLAMP + "2}" +
    ".g17-meta{margin:.15em 0 0;font-size:.85em;color:var(--goal17-muted,color-mix(in srgb,currentColor 78%,transparent));white-space:nowrap;overflow:hidden;text-overflow:ellipsis}" +
    ".g17-summary{margin:.2em 0 0;" + CLAMP + "2}" +
    ".g17-l-cards .g17-item{display:flex;gap:.75em;align-items:flex-start}" +
    ".g17-thumb{flex:0 0 6em;width:6em;height:4.5em;object-fit:cover;border-radius:var(--goal17-radius,0);" +
    "background:var(--goal17-rule,rgba(128,128,128,.2))}.g17-body{min-width:0;flex:1}" +
    ".g17-more,.g17-empty,.g17-fail,.g17-wait{margin:.6em 0 0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}" +
    ".g17-fail{white-space:normal}.g17-wait{opacity:.7}";

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

  function hasFallback(host) {
    return /\S/.test(host.textContent) || !!host.querySelector("img,a");
  }

  // The date in the widget's language (the JSON's display_date is in the update's language).
  function dateText(it, words) {
    try {
      var d = new Date(it.date);
      if (!isNaN(d)) return d.toLocaleDateString(words.date, { day: "numeric", month: "long", year: "numeric", timeZone: "Europe/Stockholm" });
    } catch (e) {}
    return it.display_date || "";
  }

  function reserve(o, n) {
    var per = ITEM[o.layout] + (o.summary ? SUMMARY : 0);
    return "calc(" + ((o.heading !== "off" ? HEAD : 0) + n * per + MORE) + "em + " + n + "px)";
  }

  // Shadow root with a <slot>: the partner's fallback shows through until we replace it.
  function mount(host, o) {
    var root = null, box = el("section", "w"), st;
    try {
      root = host.shadowRoot || host.attachShadow({ mode: "open" });
    } catch (e) {}
    if (root) {
      clear(root);
      root.appendChild(el("style", "", RULES));
    } else if (!D.getElementById("g17-style")) {
      // No Shadow DOM: prefixed class names and one shared style element instead.
      st = el("style", "", RULES);
      st.id = "g17-style";
      (D.head || D.documentElement).appendChild(st);
    }
    box.setAttribute("lang", o.lang);
    box.setAttribute("aria-busy", "true");
    box.style.minHeight = reserve(o, o.limit);
    if (root) box.appendChild(D.createElement("slot"));
    if (!hasFallback(host)) box.appendChild(el("p", "wait", WORDS[o.lang].loading));
    if (root || !hasFallback(host)) (root || host).appendChild(box);  // else: the fallback stays as it is
    return { host: host, root: root, box: box };
  }

  function show(w) {
    if (!w.root) {
      clear(w.host);
      w.host.appendChild(w.box);
    }
    w.box.removeAttribute("aria-busy");
  }

  function fail(w, o) {
    try {
      var words = WORDS[o.lang], p;
      clear(w.box);
      w.box.style.minHeight = "";
      if (hasFallback(w.host)) {  // the partner's own content is the best failure state
        w.box.removeAttribute("aria-busy");
        if (w.root) w.box.appendChild(D.createElement("slot"));
        return;
      }
      show(w);
      p = el("p", "fail", words.fail + " ");
      p.appendChild(link(o.page, o.target ? words.goT.replace("{id}", o.target) : words.go));
      w.box.appendChild(p);
    } catch (e) {}
  }

  function render(w, data, o) {
    var words = WORDS[o.lang], box = w.box;
    var items = (Array.isArray(data.items) ? data.items : []).filter(function (it) {
      return it && typeof it == "object" && (!o.filter || it.lang === o.filter);
    }).slice(0, o.limit);
    var ul = el("ul", "list"), more = el("p", "more"), h;
    clear(box);
    box.className = "g17-w g17-l-" + o.layout;
    box.style.minHeight = reserve(o, items.length);
    if (o.heading !== "off") {
      h = el("h" + o.level, "title");
      h.appendChild(link(data.page_url, o.heading || data.title || ""));
      box.appendChild(h);
    }
    items.forEach(function (it) {
      var li = el("li", "item"), body = el("div", "body"), t = el("h" + Math.min(o.level + 1, 6), "item-title");
      var l = langOf(it.lang), img = it.image && safeUrl(it.image.url), pic, meta, time, names;
      t.appendChild(link(it.url, it.title || ""));
      if (l) t.setAttribute("lang", l);
      if (o.layout == "cards") {
        pic = el(img ? "img" : "span", "thumb");
        if (img) {
          pic.setAttribute("src", img);
          pic.setAttribute("alt", "");  // decorative: the linked title next to it says it all
          pic.setAttribute("loading", "lazy");
          pic.setAttribute("width", "96");
          pic.setAttribute("height", "72");
          pic.addEventListener("error", function () { pic.removeAttribute("src"); });  // an empty box, no broken icon
        }
        li.appendChild(pic);
      }
      body.appendChild(t);
      if (o.layout != "compact") {
        meta = el("p", "meta");
        time = el("time", "", dateText(it, words));
        if (typeof it.date == "string") time.setAttribute("datetime", it.date);
        meta.appendChild(time);
        names = (Array.isArray(it.targets) ? it.targets : []).map(function (x) {
          return x && typeof x == "object" ? String(x.name || x.id || "") : "";
        }).filter(Boolean);
        if (names.length) {  // the JSON names targets in the update's language: say so
          meta.appendChild(D.createTextNode(" · "));
          meta.appendChild(el("span", "", names.join(", ")));
          if (l) meta.lastChild.setAttribute("lang", l);
        }
        body.appendChild(meta);
        if (o.summary && it.summary) {
          body.appendChild(el("p", "summary", it.summary));
          if (l) body.lastChild.setAttribute("lang", l);
        }
      }
      li.appendChild(body);
      ul.appendChild(li);
    });
    box.appendChild(items.length ? ul : el("p", "empty", words.none));
    more.appendChild(link(data.page_url || data.home_url, words.more));
    box.appendChild(more);
    show(w);
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

  function options(host) {
    var attr = function (n) { return host.getAttribute("data-" + n); };
    var name = attr("goal17") || "latest", filter = langOf(attr("lang")), page = D.documentElement.lang || "";
    var limit = parseInt(attr("limit"), 10), heading = attr("heading"), level = parseInt(attr("heading-level"), 10);
    var layout = attr("layout"), summary = attr("summary"), target = /^targets\/(.*)$/.exec(name);
    if (/^[2-5]$/.test(heading || "")) level = +heading, heading = null; // v1: data-heading="3" was the level
    layout = ITEM[layout] ? layout : "list";
    return {
      name: name,
      filter: filter,
      lang: WORDS[filter] ? filter : /^en\b/i.test(page) ? "en" : /^sv\b/i.test(page) || !page ? "sv" : "en",
      limit: limit > 0 ? Math.min(limit, 50) : 5,
      level: level >= 2 && level <= 5 ? level : 2,
      heading: heading == null || heading === "" ? null : heading,
      layout: layout,
      summary: layout != "compact" && (summary == "short" || (summary == null && layout == "list")),
      target: target && NAME.test(name) ? target[1] : null,
      page: target && NAME.test(name) ? SITE + name + "/" : SITE
    };
  }

  function one(host) {
    if (host.goal17Done) return;
    host.goal17Done = true;
    var o = options(host), w = mount(host, o);
    if (!NAME.test(o.name)) {
      if (W.console) console.warn("goal17: unknown data-goal17=\"" + o.name + "\"; use latest, targets/17.1 … targets/17.19, groups/<group> or lang/sv|en/latest (docs/partners.md)");
      return fail(w, o);
    }
    if (!W.fetch || !SITE) return fail(w, o);
    load(BASE + o.name + ".json").then(function (data) {
      render(w, data, o);
    }).catch(function () {
      fail(w, o);
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
