// The screens: login, agent (register, follow-up), feedback calls, officer
// worklist, complaint, supervision and the administrator's dashboard.
"use strict";

SCREENS.login = async function () {
  const user = h("input", { name: "username", autocomplete: "username", required: true, autofocus: true });
  const pass = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { class: "card", id: "login-form" },
    h("h1", {}, t("login.title")),
    field("login-username", t("login.username"), user),
    field("login-password", t("login.password"), pass),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("login.submit"))));
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    try {
      const r = await api("POST", "/v1/login", { username: user.value.trim(), password: pass.value });
      session.save(r.token, r.user, r.passwordChangeRequired);
      flash("");
      go(r.passwordChangeRequired ? "#/password" : home());
    } catch (err) { flash(t("login.failed"), true); pass.select(); }
  });
  return h("div", { class: "grid" }, form);
};

// ---- Change one's own password: forced after a login with a one-time
// password, reachable from the header otherwise.
SCREENS.password = async function () {
  const forced = session.mustChange;
  const old = h("input", { name: "current-password", type: "password", autocomplete: "current-password", required: true, autofocus: true });
  const fresh = h("input", { name: "new-password", type: "password", autocomplete: "new-password", required: true, "aria-describedby": "pw-rules" });
  const again = h("input", { name: "new-password-again", type: "password", autocomplete: "new-password", required: true, "aria-describedby": "pw-rules" });
  const form = h("form", { class: "card", id: "password-form" },
    h("h1", {}, t("pw.title")),
    forced ? h("p", { id: "pw-forced" }, t("pw.forced")) : "",
    h("p", { id: "pw-rules", class: "muted" }, t("pw.rules")),
    field("pw-old", t("pw.old"), old), field("pw-new", t("pw.new"), fresh), field("pw-again", t("pw.again"), again),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("pw.submit"))));
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    if (fresh.value !== again.value) { flash(t("pw.mismatch"), true); again.select(); return; }
    try {
      const r = await api("POST", "/v1/password", { oldPassword: old.value, newPassword: fresh.value });
      // Every other session of this user has ended; this token is the new one.
      session.save(r.token, r.user, false);
      flash(t("pw.changed"));
      go(home());
    } catch (err) {
      const fields = (err.body?.details || []).flatMap(d => (d.fieldViolations || []).map(v => v.field));
      if (err.status === 401 && fields.includes("old_password")) { flash(t("pw.wrong"), true); old.select(); return; }
      showError(err);
      if (fields.includes("new_password")) fresh.select();
    }
  });
  return h("div", { class: "grid" }, form);
};

// ---- Agent: find the caller, register, read the docket back, follow-ups.
SCREENS.agent = async function () {
  await loadMaster();
  const phone = h("input", { name: "phone", type: "tel", autocomplete: "off", autofocus: true });
  const previous = h("div", { id: "previous", "aria-live": "polite" });
  const lookup = h("form", { class: "card", id: "lookup-form" }, h("h2", {}, t("agent.lookup")),
    h("div", { class: "row" }, field("lookup-phone", t("agent.phone"), phone), h("button", { type: "submit" }, t("agent.find"))), previous);
  lookup.addEventListener("submit", async ev => {
    ev.preventDefault();
    try {
      const r = await api("GET", "/v1/complaints" + qs({ phone: phone.value }));
      const list = r.complaints || [];
      previous.replaceChildren(h("h3", {}, t("agent.previous")), list.length ? complaintTable(list, ["docket", "registered", "status", "category", "description"]) :
        h("p", { class: "muted" }, t("agent.none")));
      regPhone.value = phone.value;
      if (list[0]) regName.value = list[0].citizen?.name || "";
      key = randomKey(); saveDraft();
      regName.focus();
    } catch (err) { showError(err); }
  });

  const regPhone = h("input", { name: "phone", type: "tel", required: true });
  const regName = h("input", { name: "name", required: true, dir: "auto" });
  const lang = h("select", { name: "language" }, h("option", { value: "hi" }, "हिन्दी"), h("option", { value: "en" }, "English"),
    h("option", { value: "ur" }, "اردو"), h("option", { value: "pa" }, "ਪੰਜਾਬੀ"));
  lang.value = LANG;
  const district = h("select", { name: "district", required: true }, h("option", { value: "" }, t("agent.choose")),
    master.districts.map(d => h("option", { value: d.code }, localName(d))));
  const block = h("select", { name: "block" }, h("option", { value: "" }, t("agent.any")));
  const ward = h("select", { name: "ward" }, h("option", { value: "" }, t("agent.any")));
  district.addEventListener("change", () => {
    const d = master.districts.find(d => d.code === district.value);
    block.replaceChildren(h("option", { value: "" }, t("agent.any")), ...((d && d.blocks) || []).map(b => h("option", { value: b.code }, localName(b))));
    ward.replaceChildren(h("option", { value: "" }, t("agent.any")));
  });
  block.addEventListener("change", () => {
    const d = master.districts.find(d => d.code === district.value);
    const b = d && (d.blocks || []).find(b => b.code === block.value);
    ward.replaceChildren(h("option", { value: "" }, t("agent.any")), ...((b && b.wards) || []).map(w => h("option", { value: w.code }, localName(w))));
  });
  const categories = h("datalist", { id: "category-list" },
    master.categories.map(c => h("option", { value: `${c.name} / ${c.nameHi} [${c.code}]` })));
  const category = h("input", { name: "category", list: "category-list", required: true, autocomplete: "off" });
  const locality = h("input", { name: "locality", dir: "auto" });
  const address = h("input", { name: "address", dir: "auto" });
  const description = h("textarea", { name: "description", required: true, dir: "auto", maxlength: 4000 });
  const channel = h("select", { name: "channel" }, ["PHONE", "WHATSAPP", "WEB", "MOBILE_APP", "EMAIL", "SOCIAL_MEDIA", "WALK_IN"]
    .map(c => h("option", { value: "CHANNEL_" + c }, nameOf(c))));
  const result = h("div", { id: "result", "aria-live": "assertive" });
  const form = h("form", { class: "card", id: "register-form" }, h("h1", {}, t("agent.title")),
    h("div", { class: "grid" },
      h("div", {}, field("reg-phone", t("agent.phone"), regPhone), field("reg-name", t("agent.name"), regName),
        field("reg-language", t("agent.language"), lang), field("reg-channel", t("agent.channel"), channel)),
      h("div", {}, field("reg-district", t("agent.district"), district), field("reg-block", t("agent.block"), block),
        field("reg-ward", t("agent.ward"), ward), field("reg-locality", t("agent.locality"), locality), field("reg-address", t("agent.address"), address))),
    field("reg-category", t("agent.category"), category), categories,
    field("reg-description", t("agent.description"), description),
    h("div", { class: "actions" }, h("button", { type: "submit", id: "register" }, t("agent.submit"))));
  // One key per call: a retry after a lost reply returns the same docket.
  // The fields and the key are kept in sessionStorage until the docket
  // shows, so a reload mid-call loses nothing and a resubmit after it sends
  // the same key (the same content: the same complaint).
  const inputs = { regPhone, regName, lang, channel, district, block, ward, locality, address, category, description };
  let key = randomKey();
  const saveDraft = () => sessionStorage.setItem(DRAFT_KEY, JSON.stringify({
    user: session.user?.username, key, values: Object.fromEntries(Object.entries(inputs).map(([k, e]) => [k, e.value])) }));
  let draft = null;
  try { draft = JSON.parse(sessionStorage.getItem(DRAFT_KEY)); } catch { /* none */ }
  if (draft && draft.user === session.user?.username && draft.values) {
    key = draft.key;
    for (const [k, e] of Object.entries(inputs)) {
      if (draft.values[k] === undefined) continue;
      e.value = draft.values[k];
      // The block and ward lists follow the district and block chosen.
      if (e === district || e === block) e.dispatchEvent(new Event("change"));
    }
  }
  form.addEventListener("input", () => { key = randomKey(); saveDraft(); });
  form.addEventListener("change", saveDraft);
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    const m = /\[([A-Z0-9_-]+)\]\s*$/.exec(category.value);
    const code = m ? m[1] : category.value.trim().toUpperCase();
    try {
      const r = await api("POST", "/v1/complaints", {
        idempotencyKey: key, citizen: { name: regName.value, phone: regPhone.value, language: lang.value },
        location: { districtCode: district.value, blockCode: block.value, wardCode: ward.value, locality: locality.value, address: address.value },
        categoryCode: code, description: description.value, channel: channel.value,
      });
      const docket = r.complaint.docket;
      sessionStorage.removeItem(DRAFT_KEY);
      result.replaceChildren(h("div", { class: "card docket-panel" },
        h("div", {}, h("div", {}, t("agent.docket")), h("div", { class: "docket", id: "docket", tabindex: "-1" }, docket)),
        h("img", { src: "/console/qr.png" + qs({ docket, token: r.complaint.statusToken }), alt: t("agent.qr") + " " + docket, width: 128, height: 128 }),
        h("button", { type: "button", class: "secondary", onclick: () => route() }, t("agent.new"))));
      document.getElementById("docket").focus();
    } catch (err) { showError(err); }
  });

  // Follow-up of an existing docket.
  const fuDocket = h("input", { name: "docket", required: true });
  const fuNote = h("input", { name: "note", dir: "auto", required: true });
  const fuInfo = h("input", { type: "checkbox", name: "info" });
  const followUp = h("form", { class: "card", id: "followup-form" }, h("h2", {}, t("agent.followup")),
    h("div", { class: "row" }, field("fu-docket", t("col.docket"), fuDocket), field("fu-note", t("agent.followup.note"), fuNote)),
    h("label", {}, fuInfo, " ", t("agent.followup.info")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("agent.followup.submit"))));
  followUp.addEventListener("submit", async ev => {
    ev.preventDefault();
    try {
      await api("POST", `/v1/complaints/${encodeURIComponent(fuDocket.value)}/follow-ups`, { note: fuNote.value, providesInformation: fuInfo.checked });
      flash(t("saved")); followUp.reset();
    } catch (err) { showError(err); }
  });
  return h("div", {}, lookup, form, result, followUp);
};

// complaintTable lists complaints with a link to each.
function complaintTable(list, cols) {
  const head = { docket: "col.docket", registered: "col.registered", status: "col.status", category: "col.category",
    district: "col.district", due: "col.due", description: "col.description", post: "col.post", level: "col.level" };
  const cell = {
    docket: c => h("td", {}, h("a", { href: "#/complaint/" + c.docket }, c.docket)),
    registered: c => h("td", {}, fmtTime(c.createdAt)),
    status: c => h("td", {}, statusName(c.status), c.overdue ? [" ", h("span", { class: "badge overdue" }, t("overdue"))] : ""),
    category: c => h("td", {}, categoryName(c.categoryCode)),
    district: c => h("td", {}, placeName(c.location?.districtCode)),
    due: c => h("td", {}, fmtTime(c.slaDueAt)),
    description: c => h("td", {}, userText((c.description || "").slice(0, 120))),
    post: c => h("td", {}, c.post || ""),
    level: c => h("td", { class: "num" }, c.level || ""),
  };
  return h("table", {}, h("thead", {}, h("tr", {}, cols.map(k => h("th", { scope: "col" }, t(head[k]))))),
    h("tbody", {}, list.map(c => h("tr", { class: c.overdue ? "overdue" : "" }, cols.map(k => cell[k](c))))));
}

// ---- Feedback calls: the action-taken report and one-key outcomes.
SCREENS.feedback = async function () {
  await loadMaster();
  const r = await api("GET", "/v1/feedback-queue" + qs({ pageSize: 50 }));
  const items = r.items || [];
  const record = async (docket, outcome, satisfied) => {
    try {
      await api("POST", `/v1/complaints/${encodeURIComponent(docket)}/feedback`, { outcome, satisfied });
      flash(t("saved")); route();
    } catch (err) { showError(err); }
  };
  const list = items.map((it, i) => {
    const c = it.complaint;
    const item = h("li", { class: "card feedback-item", tabindex: "0", "aria-keyshortcuts": "1 2 3", id: "feedback-" + c.docket },
      h("h2", {}, c.docket, " — ", categoryName(c.categoryCode)),
      h("p", {}, h("b", {}, t("c.citizen"), ": "), userText(c.citizen?.name), " ", c.citizen?.phone || ""),
      h("p", {}, h("b", {}, t("col.description"), ": "), userText(c.description)),
      h("p", {}, h("b", {}, t("feedback.atr"), ": "), userText(c.actionTakenReport)),
      it.attempts ? h("p", { class: "muted" }, `${it.attempts} ${t("feedback.attempts")}`) : "",
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: () => record(c.docket, "FEEDBACK_OUTCOME_REACHED", true) }, h("kbd", {}, "1"), " ", t("feedback.satisfied")),
        h("button", { type: "button", class: "secondary", onclick: () => record(c.docket, "FEEDBACK_OUTCOME_REACHED", false) }, h("kbd", {}, "2"), " ", t("feedback.unsatisfied")),
        h("button", { type: "button", class: "secondary", onclick: () => record(c.docket, "FEEDBACK_OUTCOME_NOT_REACHABLE", false) }, h("kbd", {}, "3"), " ", t("feedback.unreachable"))));
    item.addEventListener("keydown", ev => {
      if (ev.target.tagName === "INPUT" || ev.target.tagName === "TEXTAREA") return;
      if (ev.key === "1") record(c.docket, "FEEDBACK_OUTCOME_REACHED", true);
      if (ev.key === "2") record(c.docket, "FEEDBACK_OUTCOME_REACHED", false);
      if (ev.key === "3") record(c.docket, "FEEDBACK_OUTCOME_NOT_REACHABLE", false);
    });
    if (i === 0) item.setAttribute("autofocus", "");
    return item;
  });
  return h("div", {}, h("h1", {}, t("feedback.title")), h("p", { class: "muted" }, t("feedback.keys")),
    items.length ? h("ul", { class: "plain" }, list) : h("p", {}, t("feedback.none")));
};

// ---- Officer worklist, most urgent deadline first.
SCREENS.worklist = async function (filter) {
  await loadMaster();
  const overdueOnly = filter === "overdue";
  const r = await api("GET", "/v1/worklist" + qs({ overdueOnly, pageSize: 100 }));
  const box = h("input", { type: "checkbox", checked: overdueOnly || undefined, onchange: ev => go(ev.target.checked ? "#/worklist/overdue" : "#/worklist") });
  const list = r.complaints || [];
  return h("div", {}, h("h1", {}, t("worklist.title")), h("label", {}, box, " ", t("worklist.overdue")),
    list.length ? complaintTable(list, ["docket", "due", "status", "category", "district", "level", "description"]) : h("p", {}, t("worklist.none")));
};

// ---- One complaint: details, history and what the caller may do with it.
SCREENS.complaint = async function (docket) {
  await loadMaster();
  const r = await api("GET", "/v1/complaints/" + encodeURIComponent(docket));
  const c = r.complaint;
  const dl = (k, v) => [h("dt", {}, t(k)), h("dd", {}, v)];
  const details = h("dl", { class: "card" },
    dl("col.status", [statusName(c.status), c.overdue ? [" ", h("span", { class: "badge overdue" }, t("overdue"))] : ""]),
    dl("c.citizen", [userText(c.citizen?.name), " ", c.citizen?.phone || ""]),
    dl("c.where", [[c.location?.districtCode, c.location?.blockCode, c.location?.wardCode].filter(Boolean).map(placeName).join(", "), " ",
      userText(c.location?.locality), " ", userText(c.location?.address)]),
    dl("col.category", categoryName(c.categoryCode)),
    dl("c.department", deptName(c.departmentCode) || "—"),
    dl("col.post", c.post ? `${c.post} (L${c.level}) ${c.assignedOfficer || ""}` : "—"),
    dl("col.due", fmtTime(c.slaDueAt) || "—"),
    dl("col.description", userText(c.description, "p")),
    c.actionTakenReport ? dl("c.atr", userText(c.actionTakenReport, "p")) : "",
    c.specialClosurePending ? dl("c.special", `${c.specialClosure?.reason || ""} — ${c.specialClosure?.proposedBy || ""}: ${c.specialClosure?.note || ""}`) : "");
  const history = h("ol", { class: "history card" }, (c.history || []).map(e =>
    h("li", {}, h("b", {}, fmtTime(e.at)), " ", nameOf(e.action), " ", e.fromStatus ? statusName(e.fromStatus) + " → " : "", statusName(e.toStatus),
      " — ", e.actor, e.note ? [": ", userText(e.note)] : "")));
  return h("div", {}, h("h1", {}, t("c.title"), " ", h("span", { class: "docket-inline" }, c.docket)), details, actionsFor(c),
    h("h2", {}, t("c.history")), history);
};

// actionsFor offers the lifecycle actions of the caller's role.
function actionsFor(c) {
  const status = enumName(c.status, "COMPLAINT_STATUS_");
  const role = session.role;
  const text = h("textarea", { name: "text", dir: "auto" });
  const cat = h("select", { name: "category" }, h("option", { value: "" }, t("agent.choose")),
    (master.categories || []).map(x => h("option", { value: x.code }, `${localName(x)} (${x.departmentCode})`)));
  const reason = h("select", { name: "reason" }, ["POLICY_MATTER", "SUB_JUDICE", "NOT_A_GRIEVANCE", "DUPLICATE"].map(r =>
    h("option", { value: "SPECIAL_CLOSURE_REASON_" + r }, nameOf(r))));
  const linked = h("input", { name: "linked" });
  const post = h("input", { name: "post" });
  const path = a => `/v1/complaints/${encodeURIComponent(c.docket)}/${a}`;
  const v = c.version;
  const act = (label, fn) => h("button", { type: "button", class: "secondary", "data-action": label, onclick: async () => {
    try { await fn(); flash(t("saved")); route(); } catch (err) { showError(err); }
  } }, t(label));
  const buttons = [];
  const working = ["ASSIGNED", "IN_PROGRESS", "REOPENED"].includes(status);
  if (role === "officer") {
    if (status === "ASSIGNED" || status === "REOPENED") buttons.push(act("act.acknowledge", () => api("POST", path("acknowledge"), { note: text.value, expectedVersion: v })));
    if (status === "IN_PROGRESS") {
      buttons.push(act("act.resolve", () => api("POST", path("resolve"), { actionTakenReport: text.value, expectedVersion: v })));
      buttons.push(act("act.request", () => api("POST", path("request-information"), { note: text.value, expectedVersion: v })));
    }
    if (status === "ON_HOLD") buttons.push(act("act.resume", () => api("POST", path("resume"), { note: text.value, expectedVersion: v })));
    if (working) {
      buttons.push(act("act.return", () => api("POST", path("return"), { reason: text.value, expectedVersion: v })));
      buttons.push(act("act.transfer", () => api("POST", path("transfer"), { categoryCode: cat.value, note: text.value, expectedVersion: v })));
      if (!c.specialClosurePending) buttons.push(act("act.propose", () => api("POST", path("special-closure"), { reason: reason.value, duplicateOf: linked.value, note: text.value, expectedVersion: v })));
    }
  }
  if (role === "officer" || role === "supervisor") {
    if (status !== "CLOSED") buttons.push(act("act.note", () => api("POST", path("notes"), { note: text.value, expectedVersion: v })));
    buttons.push(act("act.link", () => api("POST", path("links"), { linkedDocket: linked.value, note: text.value })));
  }
  if ((role === "supervisor" || role === "admin" || role === "officer") && c.specialClosurePending) {
    buttons.push(act("act.approve", () => api("POST", path("special-closure/decision"), { approve: true, note: text.value, expectedVersion: v })));
    buttons.push(act("act.reject", () => api("POST", path("special-closure/decision"), { approve: false, note: text.value, expectedVersion: v })));
  }
  if ((role === "supervisor" || role === "admin") && status === "UNROUTED") {
    buttons.push(act("act.assign", () => api("POST", path("assign"), { categoryCode: cat.value, post: post.value, note: text.value, expectedVersion: v })));
  }
  if ((role === "supervisor" || role === "admin") && working) {
    buttons.push(act("act.transfer", () => api("POST", path("transfer"), { categoryCode: cat.value, note: text.value, expectedVersion: v })));
  }
  if (!buttons.length) return "";
  return h("div", { class: "card", id: "actions" },
    field("act-text", t("act.text"), text),
    h("div", { class: "grid" }, field("act-category", t("act.category"), cat), field("act-reason", t("act.reason"), reason),
      field("act-linked", t("act.linked"), linked), role !== "officer" ? field("act-post", t("act.post"), post) : ""),
    h("div", { class: "actions" }, buttons));
}

// ---- Supervision: unrouted, special closures awaiting a decision, escalations.
SCREENS.supervisor = async function () {
  await loadMaster();
  const [unrouted, special, escalated] = await Promise.all([
    api("GET", "/v1/unrouted" + qs({ pageSize: 50 })),
    api("GET", "/v1/complaints" + qs({ specialClosurePending: true, pageSize: 50 })),
    api("GET", "/v1/complaints" + qs({ escalated: true, pageSize: 50 })),
  ]);
  const section = (title, list, cols) => h("section", { class: "card" }, h("h2", {}, title),
    (list || []).length ? complaintTable(list, cols) : h("p", { class: "muted" }, t("sup.none")));
  return h("div", {}, h("h1", {}, t("sup.title")),
    section(t("sup.unrouted"), unrouted.complaints, ["docket", "registered", "category", "district", "description"]),
    section(t("sup.special"), special.complaints, ["docket", "status", "category", "post", "description"]),
    section(t("sup.escalated"), escalated.complaints, ["docket", "due", "status", "post", "level", "description"]));
};

// ---- Administrator's dashboard: rates by department and district, aging,
// grades; every table downloadable as CSV; refreshed as complaints change.
SCREENS.dashboard = async function () {
  await loadMaster();
  const today = new Date(Date.now() + 5.5 * 3600e3).toISOString().slice(0, 10);
  const monthStart = today.slice(0, 8) + "01";
  const from = h("input", { type: "date", value: sessionStorage.getItem("dash.from") || monthStart });
  const to = h("input", { type: "date", value: sessionStorage.getItem("dash.to") || today });
  const body = h("div", { id: "dashboard-body", "aria-live": "polite" });
  const load = async () => {
    sessionStorage.setItem("dash.from", from.value); sessionStorage.setItem("dash.to", to.value);
    const period = { fromDate: from.value, toDate: to.value };
    const [dept, dist, aging, grades] = await Promise.all([
      api("GET", "/v1/stats/resolution" + qs({ ...period, groupBy: "STATS_GROUPING_DEPARTMENT" })),
      api("GET", "/v1/stats/resolution" + qs({ ...period, groupBy: "STATS_GROUPING_DISTRICT" })),
      api("GET", "/v1/stats/pendency-aging" + qs({ groupBy: "STATS_GROUPING_DEPARTMENT" })),
      // A month still running has no grades yet: show the others.
      api("GET", "/v1/stats/department-grades" + qs({ month: from.value.slice(0, 7) })).catch(err => ({ month: from.value.slice(0, 7), error: err.message })),
    ]);
    body.replaceChildren(...renderDashboard(dept, dist, aging, grades));
  };
  const form = h("form", { class: "card row", id: "dash-form" }, field("dash-from", t("dash.from"), from), field("dash-to", t("dash.to"), to),
    h("button", { type: "submit" }, t("dash.refresh")));
  form.addEventListener("submit", ev => { ev.preventDefault(); load().catch(showError); });
  await load();
  // Live: a tick from the server when complaints change, at most once a second.
  const es = new EventSource("/console/changes" + qs({ token: session.token }));
  // The statistics consumer applies an event a moment after it is
  // published: load again shortly after (and later, in case it was busy),
  // and every 15 s in any case.
  let timers = [];
  es.addEventListener("change", () => {
    timers.forEach(clearTimeout);
    timers = [300, 2000, 6000].map(ms => setTimeout(() => load().catch(() => {}), ms));
  });
  const poll = setInterval(() => load().catch(() => {}), 15000);
  leaveScreen = () => { es.close(); timers.forEach(clearTimeout); clearInterval(poll); };
  return h("div", {}, h("h1", {}, t("dash.title")), h("p", { class: "muted" }, t("dash.live")), form, body);
};

function num(x) { return Number(x || 0); }

function renderDashboard(dept, dist, aging, grades) {
  const total = dept.total || {};
  const tile = (label, value, id) => h("div", { class: "tile" }, label, h("b", { id }, value));
  const pct = x => (100 * num(x)).toFixed(1) + "%";
  const tiles = h("div", { class: "tiles card", id: "tiles" },
    tile(t("dash.registered"), num(total.registered), "tile-registered"), tile(t("dash.resolved"), num(total.resolved), "tile-resolved"),
    tile(t("dash.pending"), num(total.pending), "tile-pending"), tile(t("dash.rr"), pct(total.resolutionRate), "tile-rr"),
    tile(t("dash.sr"), pct(total.satisfactionRate), "tile-sr"), tile(t("dash.sla"), pct(total.slaCompliance), "tile-sla"));
  const rateCharts = (title, resp, id, name) => {
    const rows = (resp.rows || []).map(r => ({ ...r, label: name(r.key) }));
    const table = {
      header: ["group", "registered", "resolved", "pending", "resolution_rate", "satisfaction_rate", "sla_compliance"],
      rows: rows.map(r => [r.key, num(r.registered), num(r.resolved), num(r.pending), num(r.resolutionRate).toFixed(4), num(r.satisfactionRate).toFixed(4), num(r.slaCompliance).toFixed(4)]),
    };
    return h("section", { class: "card", id }, h("h2", {}, title),
      h("div", { class: "grid" },
        h("div", {}, h("h3", {}, t("dash.rr")), barChart(t("dash.rr") + " " + title, rows.map(r => ({ label: r.label, value: num(r.resolutionRate) })))),
        h("div", {}, h("h3", {}, t("dash.sr")), barChart(t("dash.sr") + " " + title, rows.map(r => ({ label: r.label, value: num(r.satisfactionRate) })))),
        h("div", {}, h("h3", {}, t("dash.sla")), barChart(t("dash.sla") + " " + title, rows.map(r => ({ label: r.label, value: num(r.slaCompliance) }))))),
      csvButton(id + ".csv", table));
  };
  const series = [{ name: "0–7", color: "#6baed6" }, { name: "8–15", color: "#3182bd" }, { name: "16–30", color: "#f2a900" },
    { name: "31–50", color: "#e6550d" }, { name: ">50", color: "#a4161a" }];
  const agingRows = (aging.rows || []).map(r => ({ label: deptName(r.key), parts: [num(r.days_0_7 ?? r.days07), num(r.days_8_15 ?? r.days815), num(r.days_16_30 ?? r.days1630), num(r.days_31_50 ?? r.days3150), num(r.daysOver_50 ?? r.daysOver50)] }));
  const agingSection = h("section", { class: "card", id: "aging" }, h("h2", {}, t("dash.aging")), legend(series),
    stackedBars(t("dash.aging"), agingRows, series),
    csvButton("pendency-aging.csv", { header: ["department", "0-7", "8-15", "16-30", "31-50", ">50"], rows: agingRows.map(r => [r.label, ...r.parts]) }));
  const g = grades.grades || [];
  const gradeTable = { header: ["rank", "department", "grade", "score", "registered"], rows: g.map(x => [x.rank, deptName(x.departmentCode), x.grade, num(x.score).toFixed(1), num(x.registered)]) };
  const gradesSection = h("section", { class: "card", id: "grades" }, h("h2", {}, t("dash.grades"), " — ", grades.month || ""),
    grades.error ? h("p", { class: "muted" }, grades.error) : "",
    h("table", {}, h("thead", {}, h("tr", {}, [t("dash.rank"), t("c.department"), t("dash.grade"), t("dash.score"), t("dash.registered")].map((x, i) => h("th", { scope: "col", class: i === 1 || i === 2 ? "" : "num" }, x)))),
      h("tbody", {}, gradeTable.rows.map(r => h("tr", {}, r.map((x, i) => h("td", { class: i === 1 || i === 2 ? "" : "num" }, x)))))),
    csvButton("department-grades.csv", gradeTable));
  return [tiles, rateCharts(t("dash.byDept"), dept, "by-department", deptName), rateCharts(t("dash.byDistrict"), dist, "by-district", placeName), agingSection, gradesSection];
}

// csvButton downloads a table as CSV.
function csvButton(name, table) {
  return h("button", { type: "button", class: "secondary", onclick: () => {
    const esc = v => { const s = String(v ?? ""); return /[",\n]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s; };
    const csv = [table.header, ...table.rows].map(r => r.map(esc).join(",")).join("\n") + "\n";
    const a = h("a", { href: URL.createObjectURL(new Blob(["\ufeff" + csv], { type: "text/csv" })), download: name });
    document.body.append(a); a.click(); a.remove();
  } }, t("dash.csv"));
}

// ---- The citizen's status page (no login): reached from the QR code.
SCREENS.status = async function (docket, token) {
  // The docket alone shows nothing: the complaint's secret code (in the QR
  // code's link) must come with it.
  const input = h("input", { name: "docket", value: docket || "", autofocus: !docket, inputmode: "numeric" });
  const code = h("input", { name: "token", value: token || "", autocomplete: "off", spellcheck: "false" });
  const form = h("form", { class: "card", id: "status-form" }, h("h1", {}, t("status.lookup")),
    h("div", { class: "row" }, field("status-docket", t("status.docket"), input), field("status-token", t("status.token"), code),
      h("button", { type: "submit" }, t("status.find"))));
  form.addEventListener("submit", ev => {
    ev.preventDefault();
    go("#/status/" + encodeURIComponent(input.value.trim()) + "/" + encodeURIComponent(code.value.trim().toLowerCase()));
  });
  if (!docket) return h("div", { class: "status-page" }, form);
  const resp = await fetch("/console/status.json" + qs({ docket, token: token || "" }));
  const st = await resp.json();
  if (!resp.ok) return h("div", { class: "status-page" }, form, h("p", { class: "error", role: "alert" }, resp.status === 404 ? t("status.notfound") : st.message));
  const hi = LANG === "hi";
  // Only what the server gave: a sensitive category's complaint comes
  // without its category and district, and so shows neither.
  const dl = (k, v) => v ? [h("dt", {}, t(k)), h("dd", {}, v)] : "";
  return h("div", { class: "status-page" },
    h("h1", {}, t("status.title")),
    h("dl", { class: "card", id: "status" },
      dl("col.docket", st.docket),
      dl("col.status", statusName(st.status) + (st.closure ? " (" + st.closure.toLowerCase().replace("_", " ") + ")" : "")),
      dl("col.category", (hi && st.categoryHi) || st.category || ""),
      dl("c.department", hi && st.departmentHi ? st.departmentHi : st.department),
      dl("col.level", st.level ? "L" + st.level : ""),
      dl("col.registered", fmtDate(st.registeredAt)),
      dl("col.due", fmtDate(st.slaDueAt)),
      dl("status.updated", fmtDate(st.updatedAt))),
    form);
};
