// The console shell: session, REST calls, routing between screens, and
// small DOM helpers. Screens are in screens.js.
"use strict";
const session = {
  get token() { return sessionStorage.getItem("helpline.token"); },
  get user() { try { return JSON.parse(sessionStorage.getItem("helpline.user")); } catch { return null; } },
  // mustChange: the token is a one-time password's, good only for changing it.
  get mustChange() { return sessionStorage.getItem("helpline.mustChange") === "1"; },
  save(token, user, mustChange) {
    sessionStorage.setItem("helpline.token", token); sessionStorage.setItem("helpline.user", JSON.stringify(user));
    if (mustChange) sessionStorage.setItem("helpline.mustChange", "1"); else sessionStorage.removeItem("helpline.mustChange");
  },
  clear() { for (const k of ["helpline.token", "helpline.user", "helpline.mustChange"]) sessionStorage.removeItem(k); },
  get role() { return ((this.user || {}).role || "").replace("ROLE_", "").toLowerCase(); },
};

// DRAFT_KEY keeps the registration form being filled in (its fields and
// idempotency key) until the docket shows; logging out drops it.
const DRAFT_KEY = "helpline.registration";

class ApiError extends Error {
  constructor(status, body) { super(body.message || ("HTTP " + status)); this.status = status; this.body = body; }
}

// api calls the REST gateway with the session's token.
async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (session.token) headers["Authorization"] = "Bearer " + session.token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await resp.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch { data = { message: text }; }
  // 401 means the token no longer works, except from login, and from a
  // password change whose current password is wrong (it names the field).
  const wrongSecret = (data.details || []).some(d => (d.fieldViolations || []).length);
  if (resp.status === 401 && path !== "/v1/login" && !wrongSecret) { session.clear(); go("#/login"); }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}
// randomKey is 128 random bits in hex. crypto.getRandomValues works on any
// origin (its UUID helper only in secure contexts: HTTPS or localhost).
function randomKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), b => b.toString(16).padStart(2, "0")).join("");
}
function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "" && v !== false) p.set(k, v);
  const s = p.toString();
  return s ? "?" + s : "";
}

// h builds an element: h("button", {type: "button", onclick}, "text", child...).
function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}
function field(id, label, input) { input.id = id; return h("div", {}, h("label", { for: id }, label), input); }
function flash(msg, isError) {
  const f = document.getElementById("flash");
  f.className = isError ? "error" : "";
  f.textContent = msg || "";
  if (msg && !isError) setTimeout(() => { if (f.textContent === msg) f.textContent = ""; }, 4000);
}
function showError(err) {
  let msg = err.message || String(err);
  const details = (err.body && err.body.details) || [];
  for (const d of details) for (const v of (d.fieldViolations || [])) msg = `${v.field}: ${v.description}`;
  flash(t("error") + ": " + msg, true);
}
function fmtTime(ts) {
  if (!ts) return "";
  return new Date(ts).toLocaleString(LANG === "hi" ? "hi-IN" : "en-IN", { timeZone: "Asia/Kolkata", dateStyle: "medium", timeStyle: "short" });
}
// fmtDate shows a date (2026-11-02, IST) of the public status page.
function fmtDate(d) {
  if (!d) return "";
  return new Date(d + "T12:00:00+05:30").toLocaleDateString(LANG === "hi" ? "hi-IN" : "en-IN", { timeZone: "Asia/Kolkata", dateStyle: "medium" });
}
function enumName(s, prefix) { return String(s || "").replace(prefix, ""); }
function userText(s, tag) { return h(tag || "span", { dir: "auto", class: "usertext" }, s || ""); }

// Master data, loaded once per session.
const master = { districts: null, categories: null, departments: null };
async function loadMaster() {
  if (!master.districts) {
    const [d, c, dep] = await Promise.all([api("GET", "/v1/districts"), api("GET", "/v1/categories"), api("GET", "/v1/departments")]);
    master.districts = d.districts || []; master.categories = c.categories || []; master.departments = dep.departments || [];
  }
  return master;
}
function localName(x) { return (LANG === "hi" && x.nameHi) ? x.nameHi : x.name; }
function deptName(code) {
  const d = (master.departments || []).find(d => d.code === code);
  return d ? localName(d) : (code || "");
}
// placeName names a district, block or ward code.
function placeName(code) {
  if (!code) return "";
  for (const d of master.districts || []) {
    if (d.code === code) return localName(d);
    for (const b of d.blocks || []) {
      if (b.code === code) return localName(b);
      for (const w of b.wards || []) if (w.code === code) return localName(w);
    }
  }
  return code;
}
function categoryName(code) {
  const c = (master.categories || []).find(c => c.code === code);
  return c ? localName(c) : code;
}

// home is the first screen of the signed-in user's role.
function home() { return (NAV[session.role] || NAV.agent)[0][0]; }

// Screens by role; routes are #/name/arg.
const NAV = {
  agent: [["#/agent", "nav.agent"], ["#/feedback", "nav.feedback"]],
  officer: [["#/worklist", "nav.worklist"], ["#/dashboard", "nav.dashboard"]],
  supervisor: [["#/supervisor", "nav.supervisor"], ["#/dashboard", "nav.dashboard"]],
  admin: [["#/dashboard", "nav.dashboard"], ["#/supervisor", "nav.supervisor"], ["#/agent", "nav.agent"]],
};
const SCREENS = {};
let leaveScreen = null;
function go(hash) { if (location.hash === hash) route(); else location.hash = hash; }
async function route() {
  if (leaveScreen) { leaveScreen(); leaveScreen = null; }
  const [, name, ...args] = (location.hash || "#/").split("/");
  const main = document.getElementById("main");
  if (!session.token && name !== "login" && name !== "status") return go("#/login");
  // A one-time password's token allows nothing but changing it.
  if (session.token && session.mustChange && name !== "password" && name !== "status") return go("#/password");
  const screen = SCREENS[name] || (session.token ? null : SCREENS.login);
  renderChrome(name);
  if (!screen) return go(home());
  main.replaceChildren(h("p", { class: "muted" }, t("loading")));
  try {
    const node = await screen(...args.map(decodeURIComponent));
    main.replaceChildren(node);
    const first = main.querySelector("[autofocus]") || main.querySelector("h1");
    if (first) { if (first.tagName === "H1") first.setAttribute("tabindex", "-1"); first.focus(); }
  } catch (err) { main.replaceChildren(); showError(err); }
}
function renderChrome(current) {
  document.documentElement.lang = LANG;
  document.querySelectorAll("[data-t]").forEach(e => { e.textContent = t(e.dataset.t); });
  document.getElementById("lang").textContent = LANG === "en" ? "हिन्दी" : "English";
  const nav = document.getElementById("nav");
  nav.replaceChildren(...(session.token && !session.mustChange ? (NAV[session.role] || []) : []).map(([href, key]) =>
    h("a", { href, "aria-current": href === "#/" + current ? "page" : undefined }, t(key))));
  const u = session.user;
  document.getElementById("user").textContent = u ? `${u.displayName || u.username} (${session.role})` : "";
  document.getElementById("logout").hidden = !session.token;
  const pw = document.getElementById("password-link");
  pw.hidden = !session.token;
  if (current === "password") pw.setAttribute("aria-current", "page"); else pw.removeAttribute("aria-current");
}
document.getElementById("lang").addEventListener("click", () => {
  LANG = LANG === "en" ? "hi" : "en";
  localStorage.setItem("helpline.lang", LANG);
  route();
});
document.getElementById("logout").addEventListener("click", async () => {
  try { await api("POST", "/v1/tokens/revoke", {}); } catch { /* logged out anyway */ }
  sessionStorage.removeItem(DRAFT_KEY);
  session.clear(); go("#/login");
});
window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", route);
