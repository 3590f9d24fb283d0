// The hub's operator console (docs/console.md): vanilla JS, no build, no framework. It talks to
// the JSON API under <page>/api (console contract, section 2). Server strings only ever reach the
// page through textContent / attribute values, never innerHTML.
"use strict";
(function () {
  var BASE = location.pathname.replace(/\/+$/, "");
  var API = BASE + "/api";
  var KEY = "console.bearer";
  var SVG = "http://www.w3.org/2000/svg";
  var view = document.getElementById("view");
  var orgsCache = null;
  var eventFilters = {};
  var auditFilters = {};
  var pollTimer = null;
  var currentOrg = null;  // the org last chosen on any screen

  // ---- DOM helpers -------------------------------------------------------------------------
  function h(tag, attrs) {
    var el = document.createElement(tag);
    setAttrs(el, attrs);
    for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }
  function s(tag, attrs) {
    var el = document.createElementNS(SVG, tag);
    setAttrs(el, attrs);
    for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }
  function setAttrs(el, attrs) {
    for (var k in attrs || {}) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") el.textContent = String(v);
      else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  function add(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { add(el, c); }); return; }
    el.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }
  function say(text) {
    var st = document.getElementById("status");
    clearAlert();
    st.textContent = "";
    setTimeout(function () { st.textContent = text; }, 30);
  }
  function fail(err) {
    var al = document.getElementById("alert");
    al.textContent = err && err.message ? err.message : String(err);
  }
  function clearAlert() { document.getElementById("alert").textContent = ""; }
  function dash(v) { return v === null || v === undefined || v === "" ? "—" : String(v); }
  function when(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z").replace(/:\d\dZ$/, "Z");
  }
  function pretty(value) { return value === null || value === undefined ? "(none)" : JSON.stringify(value, null, 2); }
  function statusClass(status) {
    if (/^(unhealthy|failed|rejected|disabled|needs_reauth|open|unknown_outcome)$/.test(status)) return "s-bad";
    if (/^(unknown|degraded|duplicate|acknowledged|queued|running|half_open|open_breaker)$/.test(status)) return "s-warn";
    return "s-ok";
  }
  function badge(status) { return h("span", { class: "badge " + statusClass(status), text: dash(status) }); }
  function table(headers, rows) {
    var tbl = h("table", null,
      h("thead", null, h("tr", null, headers.map(function (t) { return h("th", { scope: "col", text: t }); }))),
      h("tbody", null, rows));
    labelCells(tbl);
    return h("div", { class: "scroll" }, tbl);
  }
  // Each cell names its column (data-label), so a narrow screen can show rows as cards.
  function labelCells(tbl) {
    var names = Array.prototype.map.call(tbl.querySelectorAll("thead th"), function (th) { return th.textContent; });
    Array.prototype.forEach.call(tbl.querySelectorAll("tbody tr"), function (tr) {
      Array.prototype.forEach.call(tr.children, function (cell, i) { if (names[i]) cell.setAttribute("data-label", names[i]); });
    });
  }
  // Money arrives as decimal text ("0.750000000", even "0E-9"); it is added and rounded exactly
  // (BigInt), never as floats.
  function parseDec(text) {
    var m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(String(text).trim());
    if (!m) return null;
    var frac = m[3] || "", exp = parseInt(m[4] || "0", 10), digits = (m[2] || "0") + frac, scale = frac.length - exp;
    if (scale < 0) { digits += "0".repeat(-scale); scale = 0; }
    var v = BigInt(digits);
    return { v: m[1] ? -v : v, scale: scale };
  }
  function rescale(d, scale) { return d.v * BigInt(10) ** BigInt(scale - d.scale); }
  function decText(v, scale) {
    var neg = v < 0, t = (neg ? -v : v).toString().padStart(scale + 1, "0");
    return (neg ? "-" : "") + (scale ? t.slice(0, -scale) + "." + t.slice(-scale) : t);
  }
  function addDecimals(values) {
    var ds = values.map(parseDec).filter(Boolean);
    var scale = Math.max.apply(null, [0].concat(ds.map(function (d) { return d.scale; })));
    return decText(ds.reduce(function (acc, d) { return acc + rescale(d, scale); }, BigInt(0)), scale);
  }
  function money(text) {  // two places, half away from zero
    if (text === null || text === undefined) return "—";
    var d = parseDec(text);
    if (!d) return String(text);
    if (d.scale <= 2) return decText(rescale(d, 2), 2);
    var unit = BigInt(10) ** BigInt(d.scale - 2), neg = d.v < 0, abs = neg ? -d.v : d.v;
    var q = abs / unit;
    if ((abs % unit) * BigInt(2) >= unit) q += BigInt(1);
    if (q === BigInt(0) && abs !== BigInt(0)) return neg ? "> -0.01" : "< 0.01";  // a fraction of a cent is not zero
    return decText(neg ? -q : q, 2);
  }
  function field(id, labelText, control) {
    control.id = id;
    return h("div", null, h("label", { for: id, text: labelText }), control);
  }
  function select(options, value, attrs) {
    var el = h("select", attrs);
    options.forEach(function (o) {
      var pair = Array.isArray(o) ? o : [o, o || "any"];
      el.appendChild(h("option", { value: pair[0], text: pair[1], selected: pair[0] === (value || "") }));
    });
    return el;
  }
  function heading(text) { return h("h2", { id: "view-title", tabindex: "-1", text: text }); }
  function qs(params) {
    var parts = [];
    for (var k in params) if (params[k] !== null && params[k] !== undefined && params[k] !== "") parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(params[k]));
    return parts.length ? "?" + parts.join("&") : "";
  }
  function toIso(local) { return local ? new Date(local).toISOString() : ""; }
  function busy(button, promise) {
    button.disabled = true;
    return promise.then(function (v) { button.disabled = false; return v; }, function (e) { button.disabled = false; fail(e); });
  }

  // ---- API ---------------------------------------------------------------------------------
  function api(method, path, body) {
    var headers = { Accept: "application/json" };
    var bearer = sessionStorage.getItem(KEY);
    if (bearer) headers.Authorization = "Bearer " + bearer;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(API + path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit", cache: "no-store" })
      .then(function (resp) {
        return resp.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          if (resp.status === 401 && path !== "/session") { sessionStorage.removeItem(KEY); showLogin(); }
          if (!resp.ok) {
            var err = new Error((data && data.message) || (data && data.error) || ("HTTP " + resp.status));
            err.code = data && data.error;
            throw err;
          }
          return data;
        });
      });
  }
  function orgs() {
    if (!orgsCache) orgsCache = api("GET", "/orgs").then(function (d) { return d.orgs || []; }, function (e) { orgsCache = null; throw e; });
    return orgsCache;
  }
  // An org picker: the given org, else the one last chosen, else (unless "any" is allowed) the first.
  function orgSelect(id, value, anyLabel, anyAllowed) {
    var el = h("select", { id: id, "data-testid": "filter-org_id" });
    el.appendChild(h("option", { value: "", text: anyLabel }));
    el.addEventListener("change", function () { if (el.value) currentOrg = el.value; });
    orgs().then(function (list) {
      var want = value || (anyAllowed ? null : currentOrg);
      if (!want && !anyAllowed && list.length) want = list[0].org_id;
      list.forEach(function (o) {
        // The name and the id, the id once when the name already ends with it ("Somos Produtora (demo)")
        var label = !o.name ? o.org_id : /\)$/.test(o.name) && o.name.slice(-(o.org_id.length + 2)) === "(" + o.org_id + ")" ? o.name : o.name + " (" + o.org_id + ")";
        el.appendChild(h("option", { value: o.org_id, text: label, selected: o.org_id === want }));
      });
      if (el.value) currentOrg = el.value;
      el.dispatchEvent(new Event("orgs-loaded"));
    }, fail);
    return el;
  }

  // ---- Login (local token, or Cognito hosted UI: authorization code + PKCE) ------------------
  function showLogin() {
    stopPolling();
    document.getElementById("nav").hidden = true;
    document.getElementById("who").hidden = true;
    clear(view);
    document.getElementById("login").hidden = false;
    var form = document.getElementById("login-form");
    var config = api("GET", "/config");
    // Handled from the start: a submit before /config answers must never fall back to the form's
    // native GET (the token in the URL, the history and the access logs); it waits for the answer.
    form.onsubmit = function (ev) {
      ev.preventDefault();
      config.then(function (cfg) {
        if (cfg.auth === "cognito" && cfg.cognito) cognitoRedirect(cfg.cognito); else localLogin(form);
      }, fail);
    };
    config.then(function (cfg) {
      if (cfg.auth === "cognito" && cfg.cognito) {
        form.setAttribute("data-mode", "cognito");
        Array.prototype.forEach.call(form.querySelectorAll(".local-only"), function (el) { el.hidden = true; });
        form.querySelector("button").textContent = "Sign in with the operators' Cognito";
      } else {
        document.getElementById("login-token").focus();
      }
    }, fail);
  }
  function localLogin(form) {
    var token = form.elements.token.value.trim();
    var operator = form.elements.operator.value.trim();
    if (!token) { fail(new Error("Enter the login token")); return; }
    var body = { token: token };
    if (operator) body.operator = operator;
    api("POST", "/session", body).then(function (d) {
      sessionStorage.setItem(KEY, d.session);
      form.reset();
      clearAlert();
      start();
    }, function (e) { fail(e.code === "invalid_token" ? new Error("That token is wrong or was already used.") : e); });
  }
  function b64url(bytes) {
    var str = "";
    new Uint8Array(bytes).forEach(function (b) { str += String.fromCharCode(b); });
    return btoa(str).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  // Cognito's hosted UI endpoints: https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html
  // and https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html (PKCE: S256).
  function cognitoRedirect(c) {
    var verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
    var state = b64url(crypto.getRandomValues(new Uint8Array(16)));
    crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)).then(function (digest) {
      sessionStorage.setItem("console.pkce", JSON.stringify({ verifier: verifier, state: state }));
      location.assign("https://" + c.domain + "/oauth2/authorize" + qs({
        response_type: "code", client_id: c.client_id, redirect_uri: c.redirect_uri, scope: "openid email",
        state: state, code_challenge: b64url(digest), code_challenge_method: "S256"
      }));
    });
  }
  function cognitoReturn() {
    var params = new URLSearchParams(location.search);
    var code = params.get("code");
    var saved = JSON.parse(sessionStorage.getItem("console.pkce") || "null");
    if (!code || !saved) return Promise.resolve(false);
    sessionStorage.removeItem("console.pkce");
    history.replaceState(null, "", location.pathname + "#/health");
    if (params.get("state") !== saved.state) return Promise.reject(new Error("Sign-in state mismatch; sign in again."));
    return api("GET", "/config").then(function (cfg) {
      var c = cfg.cognito;
      return fetch("https://" + c.domain + "/oauth2/token", {
        method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "authorization_code", client_id: c.client_id, code: code, redirect_uri: c.redirect_uri, code_verifier: saved.verifier })
      }).then(function (r) { if (!r.ok) throw new Error("Cognito refused the sign-in code"); return r.json(); })
        .then(function (tok) { sessionStorage.setItem(KEY, tok.id_token); return true; });
    });
  }
  function logout() {
    api("DELETE", "/session").catch(function () { return null; }).then(function () {
      sessionStorage.removeItem(KEY);
      showLogin();
    });
  }

  // ---- Router --------------------------------------------------------------------------------
  var screens = {
    health: renderHealth, events: renderEvents, replays: renderReplays, dlq: renderDlq,
    integrations: renderIntegrations, spend: renderSpend, audit: renderAudit, issues: renderIssues
  };
  function route() {
    if (!sessionStorage.getItem(KEY)) { showLogin(); return; }
    stopPolling();
    clearAlert();
    var hash = location.hash.replace(/^#\/?/, "");
    var parts = hash.split("/");
    var name = screens[parts[0]] ? parts[0] : "health";
    document.querySelectorAll("nav a").forEach(function (a) {
      if (a.getAttribute("href") === "#/" + name) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    });
    clear(view);
    if (name === "events" && parts[1]) renderEventDetail(decodeURIComponent(parts.slice(1).join("/")));
    else screens[name]();
    var title = document.getElementById("view-title");
    if (title && document.activeElement && document.activeElement.tagName === "A") title.focus();
  }
  function start() {
    document.getElementById("login").hidden = true;
    document.getElementById("nav").hidden = false;
    api("GET", "/me").then(function (me) {
      document.getElementById("operator").textContent = "Signed in as " + me.operator;
      document.getElementById("who").hidden = false;
    }, function () { return null; });
    route();
  }
  function stopPolling() { if (pollTimer) { clearTimeout(pollTimer); pollTimer = null; } }

  // ---- Health ---------------------------------------------------------------------------------
  var RANK = { unhealthy: 0, degraded: 1, unknown: 2, healthy: 3 };
  // A passing check with a problem (breaker not closed, a quota spent, a token to renew) is degraded.
  function healthState(r) { return r.status === "healthy" && r.degraded ? "degraded" : r.status; }
  function renderHealth() {
    var body = h("div", null, h("p", { class: "muted", text: "Loading…" }));
    var chartBox = h("div", { id: "history" });
    var refresh = h("button", { type: "button", class: "secondary", "data-testid": "health-refresh", text: "Refresh" });
    add(view, [heading("Health"), h("div", { class: "actions" }, refresh), body, chartBox]);
    function load() {
      return api("GET", "/health").then(function (d) {
        var rows = (d.rows || []).slice().sort(function (a, b) { return (RANK[healthState(a)] || 0) - (RANK[healthState(b)] || 0); });
        clear(body);
        if (!rows.length) { add(body, h("p", { text: "No health results yet." })); return; }
        add(body, table(["Org", "Provider", "Status", "Latency", "Breaker", "Quotas", "Token", "Checked", ""], rows.map(function (r) {
          var quotas = (r.quotas || []).map(function (q) {
            return h("div", { text: q.rule + ": " + dash(q.remaining) + "/" + dash(q.limit) + (q.resets_at ? " (resets " + when(q.resets_at) + ")" : "") });
          });
          var tok = r.token ? [h("div", { text: "expires " + when(r.token.expires_at) }),
            h("div", { class: "muted", text: "refreshed " + when(r.token.last_refresh_at) + " " + dash(r.token.last_refresh_result) })] : "—";
          var hist = h("button", { type: "button", class: "secondary", text: "Latency history",
            "aria-label": "Latency history of " + r.provider + " for " + r.org_id, onclick: function () { showHistory(chartBox, r); } });
          var state = healthState(r);
          return h("tr", { "data-testid": "health-row", "data-provider": r.provider, "data-org": r.org_id, "data-status": r.status,
              "data-degraded": r.degraded ? "true" : "false", class: state === "unhealthy" ? "bad" : state === "degraded" ? "warn" : null },
            h("td", { text: r.org_id }), h("th", { scope: "row", text: r.provider }),
            h("td", null, badge(state), r.error ? h("div", { class: "muted", text: r.error }) : null),
            h("td", { text: r.latency_ms === null || r.latency_ms === undefined ? "—" : Math.round(r.latency_ms) + " ms" }),
            h("td", null, r.breaker ? badge(r.breaker) : "—"),
            h("td", null, quotas.length ? quotas : "—"), h("td", null, tok), h("td", { text: when(r.checked_at) }), h("td", null, hist));
        })));
        var bad = rows.filter(function (r) { return r.status === "unhealthy"; }).length;
        var degraded = rows.filter(function (r) { return healthState(r) === "degraded"; }).length;
        say(bad || degraded ? bad + " provider(s) unhealthy, " + degraded + " degraded" : "Health loaded: all providers healthy or unknown");
      }, fail);
    }
    refresh.addEventListener("click", function () { busy(refresh, load()); });
    load();
  }
  function showHistory(box, row) {
    clear(box);
    add(box, h("h3", { text: "Latency of " + row.provider + " (" + row.org_id + "), last 30 days" }));
    api("GET", "/health/history" + qs({ org_id: row.org_id, provider: row.provider })).then(function (d) {
      add(box, latencyChart(d.points || [], row.provider));
      say("Latency history of " + row.provider + " loaded");
    }, fail);
  }
  function latencyChart(points, provider) {
    var W = 720, H = 240, L = 56, R = 12, T = 14, B = 34;
    var svg = s("svg", { class: "chart", viewBox: "0 0 " + W + " " + H, role: "img", "data-testid": "latency-chart",
      "aria-label": "Latency of " + provider + " over time, " + points.length + " checks" });
    add(svg, s("title", { text: "Latency of " + provider + " over time" }));
    if (!points.length) { add(svg, s("text", { x: L, y: H / 2, text: "No checks recorded in the last 30 days" })); return svg; }
    var times = points.map(function (p) { return Date.parse(p.at); });
    var t0 = Math.min.apply(null, times), t1 = Math.max.apply(null, times);
    var lat = points.map(function (p) { return p.latency_ms || 0; });
    var ymax = Math.max(10, Math.max.apply(null, lat)) * 1.1;
    function x(t) { return t1 === t0 ? (L + W - R) / 2 : L + (t - t0) / (t1 - t0) * (W - L - R); }
    function y(v) { return T + (1 - v / ymax) * (H - T - B); }
    for (var i = 0; i <= 4; i++) {
      var v = ymax * i / 4;
      add(svg, s("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#dde3ea" }));
      add(svg, s("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", text: Math.round(v) + " ms" }));
    }
    add(svg, s("text", { x: L, y: H - 10, text: when(points[0].at) }));
    add(svg, s("text", { x: W - R, y: H - 10, "text-anchor": "end", text: when(points[points.length - 1].at) }));
    add(svg, s("polyline", { fill: "none", stroke: "#0b5cad", "stroke-width": 2,
      points: points.map(function (p, j) { return x(times[j]).toFixed(1) + "," + y(lat[j]).toFixed(1); }).join(" ") }));
    points.forEach(function (p, j) {
      var c = s("circle", { cx: x(times[j]).toFixed(1), cy: y(lat[j]).toFixed(1), r: p.status === "healthy" ? 2.5 : 4, fill: p.status === "healthy" ? "#0b5cad" : "#b3141b" });
      add(c, s("title", { text: when(p.at) + ": " + dash(p.latency_ms) + " ms, " + p.status }));
      add(svg, c);
    });
    return svg;
  }

  // ---- Events ---------------------------------------------------------------------------------
  var EVENT_STATUSES = ["", "delivered", "duplicate", "failed", "rejected", "succeeded", "unknown"];
  function renderEvents() {
    var f = eventFilters;
    var org = orgSelect("f-org", f.org_id, "Choose an org");
    var controls = {
      org_id: org,
      provider: h("input", { type: "text", value: f.provider || "", "data-testid": "filter-provider", autocomplete: "off" }),
      type: h("input", { type: "text", value: f.type || "", "data-testid": "filter-type", autocomplete: "off" }),
      status: select(EVENT_STATUSES, f.status, { "data-testid": "filter-status" }),
      direction: select(["", "inbound", "outbound"], f.direction, { "data-testid": "filter-direction" }),
      from: h("input", { type: "datetime-local", value: f.fromLocal || "", "data-testid": "filter-from" }),
      to: h("input", { type: "datetime-local", value: f.toLocal || "", "data-testid": "filter-to" }),
      q: h("input", { type: "search", value: f.q || "", "data-testid": "filter-q", autocomplete: "off", placeholder: "record id" })
    };
    var apply = h("button", { type: "submit", "data-testid": "apply-filters", text: "Apply filters" });
    var replay = h("button", { type: "button", class: "secondary", "data-testid": "replay-filter", text: "Replay all matching this filter" });
    var form = h("form", { class: "filters", "aria-label": "Event filters" },
      field("f-org", "Org", org), field("f-provider", "Provider", controls.provider), field("f-type", "Type", controls.type),
      field("f-status", "Status", controls.status), field("f-direction", "Direction", controls.direction),
      field("f-from", "From (local time)", controls.from), field("f-to", "To (local time)", controls.to),
      field("f-q", "Record id", controls.q), h("div", { class: "actions" }, apply, replay));
    var tbody = h("tbody");
    var more = h("button", { type: "button", class: "secondary", hidden: true, text: "Load more" });
    var note = h("p", { class: "muted" });
    add(view, [heading("Events"), form, note,
      h("div", { class: "scroll" }, h("table", null, h("thead", null, h("tr", null,
        ["Time (UTC)", "Org", "Direction", "Provider", "Type", "Status", "Record id"].map(function (t) { return h("th", { scope: "col", text: t }); }))), tbody)),
      more]);
    var cursor = null, seq = 0;
    function read() {
      f.org_id = org.value; f.provider = controls.provider.value.trim(); f.type = controls.type.value.trim();
      f.status = controls.status.value; f.direction = controls.direction.value; f.q = controls.q.value.trim();
      f.fromLocal = controls.from.value; f.toLocal = controls.to.value;
      return { org_id: f.org_id, provider: f.provider, type: f.type, status: f.status, direction: f.direction,
        from: toIso(f.fromLocal), to: toIso(f.toLocal), q: f.q };
    }
    function load(append) {
      var params = read();
      if (!params.org_id) { note.textContent = "Choose an org to list its events."; return Promise.resolve(); }
      if (append && cursor) params.cursor = cursor;
      var mine = ++seq;
      return api("GET", "/events" + qs(params)).then(function (page) {
        if (mine !== seq) return;
        if (!append) clear(tbody);
        (page.items || []).forEach(function (e) {
          tbody.appendChild(h("tr", { "data-testid": "events-row", "data-record-id": e.record_id, class: /failed|rejected|unknown/.test(e.status) ? "bad" : null },
            h("td", { text: when(e.at) }), h("td", { text: e.org_id }), h("td", { text: e.direction }), h("td", { text: e.provider }),
            h("td", { text: e.type }), h("td", null, badge(e.status), e.error_class ? h("div", { class: "muted", text: e.error_class }) : null),
            h("td", null, h("a", { href: "#/events/" + encodeURIComponent(e.record_id), text: e.record_id }))));
        });
        labelCells(tbody.parentNode);
        cursor = page.cursor || null;
        more.hidden = !cursor;
        note.textContent = tbody.children.length ? tbody.children.length + " event(s) shown, newest first" + (cursor ? "; more available" : "") : "No events match these filters.";
        say(note.textContent);
      }, fail);
    }
    form.addEventListener("submit", function (ev) { ev.preventDefault(); busy(apply, load(false)); });
    more.addEventListener("click", function () { busy(more, load(true)); });
    replay.addEventListener("click", function () {
      var p = read();
      if (!p.org_id) { fail(new Error("Choose an org before replaying")); return; }
      // A replay job re-runs inbound requests only: never let an outbound filter start one over inbound events.
      if (p.direction === "outbound") { fail(new Error("Outbound operations are not replayed (their effects happen once); choose inbound or any direction")); return; }
      var filter = { org_id: p.org_id };
      ["provider", "type", "status", "from", "to"].forEach(function (k) { if (p[k]) filter[k] = p[k]; });
      busy(replay, api("POST", "/replays", { filter: filter }).then(function (job) {
        say("Replay job " + job.job_id + " queued");
        location.hash = "#/replays/" + encodeURIComponent(job.job_id);
      }));
    });
    org.addEventListener("orgs-loaded", function () {
      if (org.value) load(false);
      else note.textContent = "Choose an org to list its events.";
    });
  }
  function renderEventDetail(id) {
    var box = h("div", null, h("p", { class: "muted", text: "Loading…" }));
    add(view, [h("p", null, h("a", { href: "#/events", text: "← Events" })), heading("Event " + id), box]);
    api("GET", "/events/" + encodeURIComponent(id)).then(function (e) {
      clear(box);
      var retry = h("button", { type: "button", "data-testid": "event-retry", text: "Retry this event" });
      var result = h("p", { "aria-live": "polite", "data-testid": "retry-result" });
      retry.addEventListener("click", function () {
        busy(retry, api("POST", "/events/" + encodeURIComponent(id) + "/retry", {}).then(function (r) {
          result.textContent = "Retry: " + r.result + (r.message ? " — " + r.message : "");
          say(result.textContent);
        }));
      });
      add(box, [
        h("dl", { class: "kv" },
          [["Record id", e.record_id], ["Direction", e.direction], ["Org", e.org_id], ["Provider", e.provider], ["Type", e.type],
            ["Status", e.status], ["At", when(e.at)], ["Error class", e.error_class], ["Error", e.error_message], ["Archive key", e.raw_ref]]
            .map(function (kv) { return [h("dt", { text: kv[0] }), h("dd", { text: dash(kv[1]) })]; })),
        // Only an inbound event is replayed; an outbound operation's effects happen once (the API refuses it).
        e.direction === "inbound" ? [h("div", { class: "actions" }, retry), result] : null,
        e.direction === "inbound" || e.raw ? [h("h3", { text: "Raw request (archived, secrets redacted)" }), h("pre", { "data-testid": "event-raw", tabindex: "0", text: pretty(readableRaw(e.raw)) })] : null,
        e.event ? [h("h3", { text: "Normalised event" }), h("pre", { "data-testid": "event-normalised", tabindex: "0", text: pretty(e.event) })] : null,
        h("h3", { text: "Processing attempts" }),
        (e.attempts || []).length ? table(["At", "Outcome", "Error class", "Message"], e.attempts.map(function (a) {
          return h("tr", null, h("td", { text: when(a.at) }), h("td", null, badge(a.outcome)), h("td", { text: dash(a.error_class) }), h("td", { text: dash(a.message) }));
        })) : h("p", { class: "muted", text: "No attempts recorded." }),
        e.direction === "outbound" ? [
          h("h3", { text: "Provider calls" }),
          (e.calls || []).length ? table(["Provider", "Request", "Status", "Latency", "Error"], e.calls.map(function (c) {
            return h("tr", null, h("td", { text: c.provider }), h("td", { text: c.method + " " + c.path }), h("td", { text: dash(c.status) }),
              h("td", { text: c.latency_ms + " ms" }), h("td", { text: dash(c.error_class) }));
          })) : h("p", { class: "muted", text: "No provider calls." }),
          h("h3", { text: "Request (masked)" }), h("pre", { "data-testid": "event-request", tabindex: "0", text: pretty(e.request) }),
          h("h3", { text: "Response summary (masked)" }), h("pre", { "data-testid": "event-response", tabindex: "0", text: pretty(e.response) })
        ] : null
      ]);
      say("Event " + id + " loaded");
    }, function (err) { clear(box); fail(err); });
  }

  // The archive document with a UTF-8 JSON body shown as JSON (pretty-printed) rather than as one string.
  function readableRaw(raw) {
    if (!raw || raw.body_encoding !== "utf-8" || typeof raw.body !== "string") return raw;
    try {
      var copy = JSON.parse(JSON.stringify(raw));
      copy.body = JSON.parse(raw.body);
      return copy;
    } catch (e) { return raw; }
  }

  // ---- Replays --------------------------------------------------------------------------------
  var FINAL = { done: true, failed: true };
  function renderReplays() {
    var focusJob = decodeURIComponent((location.hash.split("/")[2] || ""));
    var list = h("div", null, h("p", { class: "muted", text: "Loading…" }));
    var org = orgSelect("r-org", null, "Choose an org");
    var prov = h("input", { type: "text", "data-testid": "archive-provider" });
    var from = h("input", { type: "datetime-local", "data-testid": "archive-from" });
    var to = h("input", { type: "datetime-local", "data-testid": "archive-to" });
    var go = h("button", { type: "submit", text: "Replay archived requests" });
    var form = h("form", { class: "filters", "aria-label": "Replay archived requests" },
      field("r-org", "Org", org), field("r-provider", "Provider", prov), field("r-from", "From (local time)", from), field("r-to", "To (local time)", to),
      h("div", { class: "actions" }, go));
    add(view, [heading("Replay jobs"), h("p", { class: "muted", text: "Start a filtered replay from the Events screen. Archived requests whose events never reached the bus are replayed from here." }), form, list]);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!org.value || !prov.value.trim() || !from.value || !to.value) { fail(new Error("Org, provider, from and to are all needed to replay archived requests")); return; }
      busy(go, api("POST", "/replays", { archive: { org_id: org.value, provider: prov.value.trim(), from: toIso(from.value), to: toIso(to.value) } }).then(function (job) {
        say("Replay job " + job.job_id + " queued");
        focusJob = job.job_id;
        load();
      }));
    });
    var lastStates = {};
    function load() {
      stopPolling();
      return api("GET", "/replays").then(function (d) {
        var jobs = d.jobs || [];
        clear(list);
        if (!jobs.length) { add(list, h("p", { text: "No replay jobs yet." })); return; }
        add(list, table(["Job", "State", "Counts", "Scope", "Operator", "Created", "Finished"], jobs.map(function (j) {
          var scope = j.filter ? "filter " + JSON.stringify(j.filter) : j.archive ? "archive " + JSON.stringify(j.archive) : "—";
          var errs = (j.errors || []).map(function (e) { return h("div", { class: "muted", text: (e.record_id || e.key) + ": " + e.message }); });
          return h("tr", { "data-testid": "replay-job", "data-job-id": j.job_id, "data-state": j.state, class: j.job_id === focusJob ? "focus" : null },
            h("th", { scope: "row", text: j.job_id }), h("td", null, badge(j.state)),
            h("td", null, h("span", { "data-testid": "replay-counts", text: "matched " + dash(j.matched) + ", replayed " + dash(j.replayed) + ", skipped " + dash(j.skipped) + ", failed " + dash(j.failed) }), errs),
            h("td", { text: scope }), h("td", { text: dash(j.operator) }), h("td", { text: when(j.created_at) }), h("td", { text: when(j.finished_at) }));
        })));
        jobs.forEach(function (j) {
          if (lastStates[j.job_id] && !FINAL[lastStates[j.job_id]] && FINAL[j.state]) say("Replay job " + j.job_id + " " + j.state + ": replayed " + j.replayed + ", skipped " + j.skipped + ", failed " + j.failed);
          lastStates[j.job_id] = j.state;
        });
        if (jobs.some(function (j) { return !FINAL[j.state]; })) pollTimer = setTimeout(load, 1000);
      }, fail);
    }
    load();
  }

  // ---- DLQ ------------------------------------------------------------------------------------
  function renderDlq() {
    var body = h("div", null, h("p", { class: "muted", text: "Loading…" }));
    var browse = h("div");
    add(view, [heading("Dead-letter queues"), body, browse]);
    function load() {
      return api("GET", "/dlqs").then(function (d) {
        clear(body);
        add(body, table(["Queue", "Depth", "In flight", "Oldest message", "Source", ""], (d.queues || []).map(function (q) {
          var all = h("button", { type: "button", class: "danger", "data-testid": "dlq-redrive-all", disabled: !q.depth, text: "Redrive all", "aria-label": "Redrive all of " + q.name });
          var look = h("button", { type: "button", class: "secondary", "data-testid": "dlq-browse", text: "Browse", "aria-label": "Browse " + q.name });
          all.addEventListener("click", function () {
            busy(all, api("POST", "/dlqs/" + encodeURIComponent(q.name) + "/redrive", {}).then(function (r) {
              say("Redrove " + r.moved + " message(s) from " + q.name); clear(browse); return load();
            }));
          });
          look.addEventListener("click", function () { busy(look, showMessages(q.name)); });
          return h("tr", { "data-testid": "dlq-row", "data-name": q.name, "data-depth": q.depth, class: q.depth ? "bad" : null },
            h("th", { scope: "row", text: q.name }), h("td", { text: q.depth }), h("td", { text: dash(q.in_flight) }),
            h("td", { text: q.oldest_age_seconds === null || q.oldest_age_seconds === undefined ? "—" : age(q.oldest_age_seconds) }),
            h("td", { text: dash(q.source) }), h("td", null, h("div", { class: "actions" }, look, all)));
        })));
      }, fail);
    }
    function showMessages(name) {
      return api("GET", "/dlqs/" + encodeURIComponent(name) + "/messages" + qs({ limit: 10 })).then(function (d) {
        clear(browse);
        var msgs = d.messages || [];
        add(browse, [h("h3", { text: name + ": " + msgs.length + " message(s) shown" }),
          msgs.length ? table(["Message", "Sent", "Receives", "Body", ""], msgs.map(function (m) {
            var one = h("button", { type: "button", "data-testid": "dlq-redrive-one", text: "Redrive", "aria-label": "Redrive message " + m.message_id });
            one.addEventListener("click", function () {
              busy(one, api("POST", "/dlqs/" + encodeURIComponent(name) + "/redrive", { message_id: m.message_id }).then(function (r) {
                say("Redrove " + r.moved + " message(s) from " + name); return load().then(function () { return showMessages(name); });
              }));
            });
            return h("tr", { "data-testid": "dlq-message", "data-message-id": m.message_id },
              h("th", { scope: "row", text: m.message_id }), h("td", { text: when(m.sent_at) }), h("td", { text: dash(m.receive_count) }),
              h("td", null, h("pre", { tabindex: "0", text: typeof m.body === "string" ? m.body : pretty(m.body) })), h("td", null, one));
          })) : h("p", { class: "muted", text: "The queue is empty." })]);
      });
    }
    load();
  }
  function age(sec) {
    if (sec < 120) return sec + " s";
    if (sec < 7200) return Math.round(sec / 60) + " min";
    if (sec < 172800) return Math.round(sec / 3600) + " h";
    return Math.round(sec / 86400) + " days";
  }

  // ---- Integrations ---------------------------------------------------------------------------
  function renderIntegrations() {
    var org = orgSelect("i-org", null, "Choose an org");
    var body = h("div");
    add(view, [heading("Integrations"), h("div", { class: "filters" }, field("i-org", "Org", org)), body]);
    var seq = 0;  // only the newest load renders: a late answer for an org left behind is dropped
    function load() {
      var mine = ++seq;
      if (!org.value) { clear(body); return Promise.resolve(); }
      return api("GET", "/integrations" + qs({ org_id: org.value })).then(function (d) {
        if (mine !== seq) return;
        clear(body);
        var list = d.integrations || [];
        if (!list.length) { add(body, h("p", { text: "This org has no integrations." })); return; }
        add(body, table(["Provider", "Status", "Last test", "Webhook", "Token", "Actions"], list.map(function (i) {
          return integrationRow(i, load);
        })));
      }, fail);
    }
    org.addEventListener("change", load);
    org.addEventListener("orgs-loaded", load);
  }
  function integrationRow(i, reload) {
    var base = "/integrations/" + encodeURIComponent(i.org_id) + "/" + encodeURIComponent(i.provider) + "/";
    var out = h("div", { class: "muted", "aria-live": "polite" });
    function act(button, action, body, done) {
      busy(button, api("POST", base + action, body || {}).then(function (r) {
        var msg = done ? done(r) : i.provider + ": " + action + " done";
        say(msg);
        return reload();
      }));
    }
    var test = h("button", { type: "button", class: "secondary", text: "Test now", "aria-label": "Test " + i.provider + " now" });
    test.addEventListener("click", function () {
      act(test, "test", {}, function (r) { var t = r.test_result || {}; return i.provider + " test: " + (t.ok ? "ok" : "failed") + (t.error ? " — " + t.error : ""); });
    });
    var controls = [test];
    if (i.status === "disabled") {
      var en = h("button", { type: "button", "data-testid": "integration-enable", text: "Enable", "aria-label": "Enable " + i.provider });
      en.addEventListener("click", function () { act(en, "enable", {}, function () { return i.provider + " enabled"; }); });
      controls.push(en);
    } else {
      var rid = "reason-" + i.org_id + "-" + i.provider;
      var reason = h("input", { type: "text", id: rid, maxlength: 500, "data-testid": "integration-reason", placeholder: "why" });
      var dis = h("button", { type: "button", class: "danger", "data-testid": "integration-disable", text: "Disable", "aria-label": "Disable " + i.provider });
      dis.addEventListener("click", function () {
        var why = reason.value.trim();
        if (!why) { fail(new Error("Give a reason to disable " + i.provider)); reason.focus(); return; }
        act(dis, "disable", { reason: why }, function () { return i.provider + " disabled"; });
      });
      controls.push(h("span", { class: "actions" }, h("label", { for: rid, class: "muted", text: "Reason" }), reason, dis));
    }
    var rec = h("button", { type: "button", class: "secondary", text: "Reconnect", "aria-label": "Reconnect " + i.provider });
    rec.addEventListener("click", function () {
      busy(rec, api("POST", base + "reconnect", {}).then(function (r) {
        clear(out);
        add(out, ["Authorize the reconnection: ", h("a", { href: r.authorize_url, rel: "noopener noreferrer", target: "_blank", text: "open the provider's consent page" })]);
        say("Reconnect started for " + i.provider);
      }));
    });
    var rot = h("button", { type: "button", class: "secondary", text: "Rotate", "aria-label": "Rotate credentials of " + i.provider });
    rot.addEventListener("click", function () {
      act(rot, "rotate", {}, function (r) { return i.provider + " rotated (" + r.rotated + (r.webhook_rotated ? ", webhook secret too" : "") + ")"; });
    });
    controls.push(rec, rot);
    var t = i.test_result;
    var wh = i.webhook;
    return h("tr", { "data-testid": "integration-row", "data-provider": i.provider, "data-status": i.status, class: i.status === "connected" ? null : "bad" },
      h("th", { scope: "row", text: i.provider }),
      h("td", null, badge(i.status), i.reason ? h("div", { class: "muted", text: i.reason }) : null, i.last_error ? h("div", { class: "muted", text: i.last_error }) : null),
      h("td", null, i.last_tested_at ? when(i.last_tested_at) + (t ? (t.ok ? " ok" : " failed") + (t.latency_ms ? " (" + t.latency_ms + " ms)" : "") : "") : "never", t && t.error ? h("div", { class: "muted", text: t.error }) : null),
      h("td", null, wh ? [wh.state, wh.error ? h("div", { class: "muted", text: wh.error }) : null] : "—"),
      h("td", { text: i.token_expires_at ? "expires " + when(i.token_expires_at) : "—" }),
      h("td", null, h("div", { class: "actions" }, controls), out));
  }

  // ---- Spend ----------------------------------------------------------------------------------
  function renderSpend() {
    var now = new Date();
    var month = h("input", { type: "month", "data-testid": "filter-month", value: now.toISOString().slice(0, 7) });
    var org = orgSelect("s-org", null, "Choose an org");
    var body = h("div");
    add(view, [heading("Spend and usage"), h("form", { class: "filters", "aria-label": "Spend filters" }, field("s-org", "Org", org), field("s-month", "Month", month)), body]);
    var seq = 0;  // only the newest load renders: a late answer for another org or month is dropped
    function load() {
      var mine = ++seq;
      if (!org.value || !month.value) return;
      api("GET", "/spend" + qs({ org_id: org.value, month: month.value })).then(function (d) {
        if (mine !== seq) return;
        clear(body);
        add(body, [
          h("div", { class: "cards" },
            h("div", { class: "card" }, "Total USD", h("b", { text: "US$ " + money(d.total_usd) })),
            h("div", { class: "card" }, "Total BRL", h("b", { text: "R$ " + money(d.total_brl) })),
            h("div", { class: "card", "data-testid": "spend-budget" }, "Budget", h("b", { text: d.budget_usd === null || d.budget_usd === undefined ? "none set" : "US$ " + money(d.budget_usd) }),
              d.budget_brl === null || d.budget_brl === undefined ? null : h("div", { class: "muted", text: "R$ " + money(d.budget_brl) })),
            h("div", { class: "card" }, "USD→BRL", h("b", { text: dash(d.usd_brl_rate) }))),
          spendChart(d),
          h("h3", { text: "By provider and model" }),
          table(["Provider", "Model", "Calls", "USD", "BRL"], (d.lines || []).map(function (l) {
            return h("tr", null, h("th", { scope: "row", text: l.provider }), h("td", { text: l.model }), h("td", { text: l.calls }), h("td", { text: money(l.cost_usd) }), h("td", { text: money(l.cost_brl) }));
          }))]);
        say("Spend of " + d.org_id + " for " + d.month + " loaded");
      }, fail);
    }
    org.addEventListener("change", load);
    month.addEventListener("change", load);
    org.addEventListener("orgs-loaded", load);
  }
  function spendChart(d) {
    // Month to date per provider against the budget (USD). Numbers are used for geometry only;
    // every amount shown is the API's own decimal string.
    var byProvider = {};
    (d.lines || []).forEach(function (l) { (byProvider[l.provider] = byProvider[l.provider] || []).push(l.cost_usd); });
    var bars = Object.keys(byProvider).map(function (p) {
      var text = addDecimals(byProvider[p]);
      return { name: p, value: Number(text), text: text };  // Number: bar length only
    });
    bars.unshift({ name: "total", value: Number(addDecimals([d.total_usd])), text: d.total_usd, total: true });
    var budget = d.budget_usd === null || d.budget_usd === undefined ? null : Number(addDecimals([d.budget_usd]));
    var max = Math.max.apply(null, bars.map(function (b) { return b.value; }).concat([budget || 0, 0.01]));
    var W = 720, L = 110, R = 90, row = 28, T = 10, H = T + bars.length * row + 24;
    var svg = s("svg", { class: "chart", viewBox: "0 0 " + W + " " + H, role: "img", "data-testid": "spend-chart",
      "aria-label": "Spend in USD by provider, total US$ " + money(d.total_usd) + (budget === null ? ", no budget" : " of a US$ " + money(d.budget_usd) + " budget") });
    add(svg, s("title", { text: "Spend against budget" }));
    function x(v) { return L + v / max * (W - L - R); }
    bars.forEach(function (b, i) {
      var y = T + i * row;
      var over = budget !== null && b.total && b.value > budget;
      add(svg, s("text", { x: L - 6, y: y + 17, "text-anchor": "end", text: b.name }));
      add(svg, s("rect", { x: L, y: y + 4, height: 18, width: Math.max(1, x(b.value) - L).toFixed(1), fill: over ? "#b3141b" : b.total ? "#13233a" : "#0b5cad", "data-provider": b.name }));
      add(svg, s("text", { x: x(b.value) + 4, y: y + 17, text: "US$ " + money(b.text) }));
    });
    if (budget !== null) {
      add(svg, s("line", { x1: x(budget), x2: x(budget), y1: T, y2: H - 20, stroke: "#7a4d00", "stroke-width": 2, "stroke-dasharray": "5 3", "data-budget": d.budget_usd }));
      add(svg, s("text", { x: x(budget), y: H - 6, "text-anchor": "middle", text: "budget US$ " + money(d.budget_usd) }));
    }
    return svg;
  }

  // ---- Audit ----------------------------------------------------------------------------------
  function renderAudit() {
    var f = auditFilters;
    var org = orgSelect("a-org", f.org_id, "Choose an org");
    var action = h("input", { type: "text", value: f.action || "", "data-testid": "filter-action" });
    var from = h("input", { type: "datetime-local", value: f.fromLocal || "", "data-testid": "filter-from" });
    var to = h("input", { type: "datetime-local", value: f.toLocal || "", "data-testid": "filter-to" });
    var apply = h("button", { type: "submit", "data-testid": "apply-filters", text: "Apply filters" });
    var form = h("form", { class: "filters", "aria-label": "Audit filters" }, field("a-org", "Org", org), field("a-action", "Action", action),
      field("a-from", "From (local time)", from), field("a-to", "To (local time)", to), h("div", { class: "actions" }, apply));
    var tbody = h("tbody");
    var more = h("button", { type: "button", class: "secondary", hidden: true, text: "Load more" });
    add(view, [heading("Audit trail"), form, h("p", { class: "muted", text: "Sensitive actions are highlighted." }),
      h("div", { class: "scroll" }, h("table", null, h("thead", null, h("tr", null, ["Time (UTC)", "Action", "Actor", "Integration", "Details", "Source"].map(function (t) { return h("th", { scope: "col", text: t }); }))), tbody)), more]);
    var cursor = null, seq = 0;
    function load(append) {
      f.org_id = org.value; f.action = action.value.trim(); f.fromLocal = from.value; f.toLocal = to.value;
      if (!f.org_id) return Promise.resolve();
      var params = { org_id: f.org_id, action: f.action, from: toIso(f.fromLocal), to: toIso(f.toLocal) };
      if (append && cursor) params.cursor = cursor;
      var mine = ++seq;
      return api("GET", "/audit" + qs(params)).then(function (page) {
        if (mine !== seq) return;
        if (!append) clear(tbody);
        (page.records || []).forEach(function (r) {
          tbody.appendChild(h("tr", { "data-testid": "audit-row", "data-action": r.action, "data-sensitive": r.sensitive ? "true" : "false", class: r.sensitive ? "sensitive" : null },
            h("td", { text: when(r.at) }), h("td", null, r.action, r.sensitive ? [" ", h("span", { class: "badge s-warn", text: "sensitive" })] : null),
            h("td", { text: r.actor }), h("td", { text: dash(r.integration) }),
            h("td", null, Object.keys(r.details || {}).length ? h("code", { text: JSON.stringify(r.details) }) : "—"),
            h("td", { text: dash(r.source_ip) })));
        });
        labelCells(tbody.parentNode);
        cursor = page.next_cursor || page.cursor || null;
        more.hidden = !cursor;
        say(tbody.children.length + " audit record(s) shown");
      }, fail);
    }
    form.addEventListener("submit", function (ev) { ev.preventDefault(); busy(apply, load(false)); });
    more.addEventListener("click", function () { busy(more, load(true)); });
    org.addEventListener("orgs-loaded", function () { load(false); });
  }

  // ---- Issues ---------------------------------------------------------------------------------
  function renderIssues() {
    var status = select(["", "open", "acknowledged", "resolved"], "open", { "data-testid": "filter-status" });
    var org = orgSelect("is-org", null, "All orgs", true);
    var body = h("div");
    add(view, [heading("Issues"), h("div", { class: "filters" }, field("is-status", "Status", status), field("is-org", "Org", org)), body]);
    var seq = 0;  // only the newest load renders: a late answer for other filters is dropped
    function load() {
      var mine = ++seq;
      return api("GET", "/issues" + qs({ status: status.value, org_id: org.value })).then(function (d) {
        if (mine !== seq) return;
        clear(body);
        var list = d.issues || [];
        if (!list.length) { add(body, h("p", { text: "No issues." })); return; }
        add(body, table(["Org", "Provider", "Error class", "Count", "First seen", "Last seen", "Status", "Last message", ""], list.map(function (i) {
          var path = "/issues/" + [i.org_id, i.provider, i.error_class].map(encodeURIComponent).join("/");
          function btn(label, to) {
            var b = h("button", { type: "button", class: "secondary", "data-testid": "issue-" + to, text: label, "aria-label": label + " " + i.provider + " " + i.error_class });
            b.addEventListener("click", function () { busy(b, api("POST", path, { status: to }).then(function () { say("Issue " + i.error_class + " " + to); return load(); })); });
            return b;
          }
          return h("tr", { "data-testid": "issues-row", "data-status": i.status, "data-provider": i.provider, class: i.status === "open" ? "bad" : null },
            h("td", { text: i.org_id }), h("td", { text: i.provider }), h("th", { scope: "row", text: i.error_class }), h("td", { text: i.count }),
            h("td", { text: when(i.first_seen) }), h("td", { text: when(i.last_seen) }), h("td", null, badge(i.status)),
            h("td", null, dash(i.last_message), i.last_record_id ? [" ", h("a", { href: "#/events/" + encodeURIComponent(i.last_record_id), text: "last event" })] : null),
            h("td", null, h("div", { class: "actions" }, i.status !== "acknowledged" && i.status !== "resolved" ? btn("Acknowledge", "acknowledged") : null, i.status !== "resolved" ? btn("Resolve", "resolved") : null)));
        })));
        say(list.length + " issue(s) shown");
      }, fail);
    }
    status.addEventListener("change", load);
    org.addEventListener("change", load);
    load();
  }

  // ---- Boot -----------------------------------------------------------------------------------
  document.getElementById("logout").addEventListener("click", logout);
  document.querySelector(".skip").addEventListener("click", function (ev) {  // not a hash route
    ev.preventDefault();
    document.getElementById("main").focus();
  });
  window.addEventListener("hashchange", route);
  cognitoReturn().then(function (signedIn) {
    if (signedIn || sessionStorage.getItem(KEY)) start(); else showLogin();
  }, function (e) { fail(e); showLogin(); });
})();
