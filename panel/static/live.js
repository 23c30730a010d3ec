/* The live view: a table and at-a-glance figures kept current by Server-Sent Events.
 *
 * Baseline from the gateway API's ledger (/api/recent, /api/transactions), then every result pushed
 * on /stream is merged by id. Refund decisions arrive as "refund" events and are shown as refund rows
 * (live only: the figures at a glance count payments). After any interruption the stream resumes (Last-Event-ID) and the page
 * also re-reads the ledger, so nothing that happened meanwhile is missed; rows still pending after a
 * few seconds are re-read one by one. Merging is idempotent and never turns a decision back to pending.
 */
"use strict";

(() => {
  const WINDOW_MS = 15 * 60 * 1000;
  const MINUTE = 60 * 1000;
  const SHOWN_ROWS = 200;
  const FLASH_MS = 2000;
  const $ = (id) => document.getElementById(id);
  const state = {
    rows: new Map(), fresh: new Map(), status: "", merchant: "",
    source: null, needResync: false, renderQueued: false, checking: new Set(),
    admin: Panel.isAdmin(),
  };

  function parseTime(text) {
    if (!text) return Date.now();
    const trimmed = String(text).replace(/(\.\d{3})\d+/, "$1").replace(/ /, "T");
    const value = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(trimmed) ? trimmed : trimmed + "Z");
    return Number.isNaN(value) ? Date.now() : value;
  }

  function normalize(raw) {
    const card = raw.card || {};
    return {
      id: raw.id,
      account_id: raw.account_id || "",
      status: raw.status || "pending",
      amount: raw.amount ?? null,
      brand: card.brand || "",
      last4: card.last4 || "",
      reason: raw.error_message || "",
      time: parseTime(raw.created_at || raw.processed_at),
    };
  }

  function normalizeRefund(raw) {
    return {
      id: raw.id,
      kind: "refund",
      account_id: raw.account_id || "",
      transaction: raw.transaction || "",
      status: raw.status || "failed",
      amount: raw.amount ?? null,
      reason: raw.failure_reason || "",
      time: parseTime(raw.processed_at),
    };
  }

  function upsert(raw, live, asRefund = false) {
    if (!raw || !raw.id) return;
    const incoming = asRefund ? normalizeRefund(raw) : normalize(raw);
    const known = state.rows.get(incoming.id);
    if (known && known.status !== "pending" && incoming.status === "pending") return; // the ledger lags the stream
    const merged = { ...incoming };
    if (known) {
      for (const key of Object.keys(merged)) {
        if (merged[key] === null || merged[key] === "") merged[key] = known[key];
      }
      merged.time = known.time;
    }
    state.rows.set(merged.id, merged);
    if (live) state.fresh.set(merged.id, Date.now());
    scheduleRender();
  }

  function prune() {
    if (state.rows.size <= 5000) return;
    const sorted = [...state.rows.values()].sort((a, b) => b.time - a.time);
    for (const row of sorted.slice(4000)) state.rows.delete(row.id);
  }

  /* ---- ledger ---- */

  function query(extra = {}) {
    const params = new URLSearchParams(extra);
    if (state.merchant) params.set("account_id", state.merchant);
    return params.toString();
  }

  async function resync() {
    try {
      const tableParams = { limit: 100 };
      if (state.status) tableParams.status = state.status;
      const [recent, latest] = await Promise.all([
        Panel.getJSON("/api/recent?" + query()),
        Panel.getJSON("/api/transactions?" + query(tableParams)),
      ]);
      for (const row of recent.data || []) upsert(row, false);
      for (const row of latest.data || []) upsert(row, false);
      prune();
    } catch (error) {
      setState("ledger unavailable, retrying", "error");
      setTimeout(resync, 3000);
    }
  }

  async function recheckPending() {
    const stale = [...state.rows.values()]
      .filter((row) => row.status === "pending" && Date.now() - row.time > 4000 && !state.checking.has(row.id))
      .slice(0, 10);
    await Promise.all(stale.map(async (row) => {
      state.checking.add(row.id);
      try {
        upsert(await Panel.getJSON("/api/transactions/" + encodeURIComponent(row.id)), false);
      } catch (error) { /* the next round tries again */ }
      setTimeout(() => state.checking.delete(row.id), 3000);
    }));
  }

  /* ---- stream ---- */

  function setState(text, kind) {
    const node = $("live-state");
    node.textContent = text;
    node.className = "state " + kind;
  }

  function connect() {
    if (state.source) state.source.close();
    const source = new EventSource("/stream" + (state.merchant ? "?" + query() : ""));
    state.source = source;
    source.addEventListener("hello", () => {
      setState("live", "live");
      if (state.needResync) {
        state.needResync = false;
        resync();
      }
    });
    source.addEventListener("result", (event) => upsert(JSON.parse(event.data), true));
    source.addEventListener("refund", (event) => upsert(JSON.parse(event.data), true, true));
    source.addEventListener("resync", () => resync());
    source.addEventListener("signed_out", () => {  // the session was ended, or its credential changed
      source.close();
      window.location.assign("/login?next=" + encodeURIComponent(location.pathname));
    });
    source.onerror = () => {
      if (state.source !== source) return;
      setState("reconnecting…", "connecting");
      state.needResync = true;
      // EventSource retries by itself unless the server refused the stream (e.g. signed out).
      if (source.readyState === EventSource.CLOSED) setTimeout(() => recover(source), 2000);
    };
  }

  async function recover(source) {
    if (state.source !== source) return;
    try {
      await Panel.getJSON("/api/transactions?limit=1"); // redirects to sign-in when the session is gone
      connect();
    } catch (error) {
      setTimeout(() => recover(source), 3000);
    }
  }

  /* ---- rendering ---- */

  function scheduleRender() {
    if (state.renderQueued) return;
    state.renderQueued = true;
    requestAnimationFrame(() => {
      state.renderQueued = false;
      renderTable();
      renderGlance(Date.now());
    });
  }

  function renderTable() {
    const rows = [...state.rows.values()]
      .filter((row) => !state.status || row.status === state.status)
      .sort((a, b) => b.time - a.time)
      .slice(0, SHOWN_ROWS);
    const body = $("transactions").tBodies[0];
    body.replaceChildren(...rows.map(rowElement));
    $("empty").hidden = rows.length > 0;
  }

  function rowElement(row) {
    const age = Date.now() - (state.fresh.get(row.id) || 0);
    const refund = row.kind === "refund";
    const tr = Panel.el("tr", { "data-id": row.id, "data-status": row.status, tabindex: "0",
      class: [age < FLASH_MS ? "fresh" : "", refund ? "refund" : ""].join(" ").trim() });
    if (refund) {
      tr.dataset.kind = "refund";
      tr.dataset.transaction = row.transaction;  // a click opens the refunded payment
    }
    if (age < FLASH_MS) tr.style.animationDelay = -age + "ms"; // rows are redrawn: continue, don't restart
    const card = refund ? `refund of ${row.transaction}`
      : row.brand || row.last4 ? `${row.brand || "card"} •••• ${row.last4 || "????"}` : "–";
    tr.append(Panel.el("td", { class: "time", text: new Date(row.time).toLocaleTimeString([], { hour12: false }) }));
    if (state.admin) tr.append(merchantCell(row.account_id));
    tr.append(
      Panel.el("td", { class: "id", title: row.id, text: row.id.slice(0, 8) }),
      Panel.el("td", { class: "num amount", text: (refund && row.amount ? "−" : "") + Panel.formatAmount(row.amount) }),
      Panel.el("td", { class: "card-cell", text: card }),
      Panel.el("td", { class: "status" }, Panel.el("span", { class: "badge " + row.status, text: row.status })),
      Panel.el("td", { class: "reason", text: row.reason }),
    );
    return tr;
  }

  /* Operators see whose row is whose: names from the one accounts list the page holds. */
  function merchantCell(accountId) {
    const name = Panel.merchants.name(accountId, merchantsLearned);
    return Panel.el("td", { class: "merchant", title: accountId },
      Panel.el("span", { class: "merchant-name", text: name || (name === null ? "unknown merchant" : "") }), " ",
      Panel.el("small", { class: "merchant-id", text: Panel.shortId(accountId) }));
  }

  function merchantsLearned() {
    Panel.fillMerchants($("merchant-filter")).catch(() => {});
    scheduleRender();
  }

  function glance(now) {
    const firstMinute = Math.floor(now / MINUTE) * MINUTE - 14 * MINUTE;
    const buckets = Array.from({ length: 15 }, (_, i) => ({ start: firstMinute + i * MINUTE, approved: 0, rejected: 0, pending: 0 }));
    const figures = { lastMinute: 0, approved: 0, rejected: 0, total: 0, volume: 0, reasons: new Map(), buckets };
    for (const row of state.rows.values()) {
      if (row.kind === "refund") continue;
      if (row.time < now - WINDOW_MS || row.time < firstMinute) continue;
      figures.total += 1;
      if (row.time >= now - MINUTE) figures.lastMinute += 1;
      const bucket = buckets[Math.min(14, Math.floor((row.time - firstMinute) / MINUTE))];
      bucket[row.status] = (bucket[row.status] || 0) + 1;
      if (row.status === "approved") {
        figures.approved += 1;
        figures.volume += Panel.toCents(row.amount);
      } else if (row.status === "rejected") {
        figures.rejected += 1;
        figures.reasons.set(row.reason || "unknown", (figures.reasons.get(row.reason || "unknown") || 0) + 1);
      }
    }
    return figures;
  }

  function renderGlance(now) {
    const figures = glance(now);
    const decided = figures.approved + figures.rejected;
    $("kpi-tpm").textContent = String(figures.lastMinute);
    $("kpi-approval").textContent = Panel.percent(figures.approved, decided);
    $("kpi-volume").textContent = Panel.formatCents(figures.volume);
    $("kpi-count").textContent = String(figures.total);
    renderReasons(figures.reasons);
    Chart.bars($("chart"), figures.buckets);
  }

  function renderReasons(reasons) {
    const list = $("reasons");
    const items = [...reasons.entries()].sort((a, b) => b[1] - a[1]).map(([reason, count]) =>
      Panel.el("li", {}, Panel.el("span", { class: "reason", text: reason }), Panel.el("strong", { text: String(count) })));
    list.replaceChildren(...(items.length ? items : [Panel.el("li", { class: "muted", text: "None in the last 15 minutes" })]));
  }

  /* ---- detail ---- */

  async function openDetail(id) {
    const dialog = $("detail");
    const body = $("detail-body");
    body.replaceChildren(Panel.el("dd", { text: "Loading…" }));
    if (!dialog.open) dialog.showModal();
    try {
      const tx = await Panel.getJSON("/api/transactions/" + encodeURIComponent(id));
      upsert(tx, false);
      const card = tx.card ? `${tx.card.brand || "card"} •••• ${tx.card.last4 || "????"}` : "–";
      const fields = [
        ["Id", tx.id], ["Account", accountText(tx.account_id)], ["Status", tx.status],
        ["Amount", Panel.formatAmount(tx.amount) + (tx.currency ? " " + tx.currency : "")], ["Card", card],
        ["Rejection reason", tx.error_message || "–"], ["Description", tx.description || "–"],
        ["Created", tx.created_at || "–"], ["Processed", tx.processed_at || "–"],
      ];
      body.replaceChildren(...fields.flatMap(([label, value]) =>
        [Panel.el("dt", { text: label }), Panel.el("dd", { text: String(value ?? "–"), "data-field": label.toLowerCase() })]));
    } catch (error) {
      body.replaceChildren(Panel.el("dd", { class: "alert", text: error.message }));
    }
  }

  function accountText(accountId) {
    const name = state.admin ? Panel.merchants.name(accountId) : null;
    return name ? `${name} (${accountId})` : accountId;
  }

  /* ---- wiring ---- */

  function start() {
    $("status-filter").addEventListener("change", (event) => {
      state.status = event.target.value;
      scheduleRender();
      resync();
    });
    const merchant = $("merchant-filter");
    if (merchant) {
      Panel.fillMerchants(merchant).then(scheduleRender).catch(() => {});
      merchant.addEventListener("change", (event) => {
        state.merchant = event.target.value;
        state.rows.clear();
        scheduleRender();
        connect();
        resync();
      });
    }
    $("transactions").addEventListener("click", (event) => {
      const tr = event.target.closest("tr[data-id]");
      if (tr) openDetail(tr.dataset.transaction || tr.dataset.id);
    });
    $("transactions").addEventListener("keydown", (event) => {
      const tr = event.target.closest("tr[data-id]");
      if (tr && event.key === "Enter") openDetail(tr.dataset.transaction || tr.dataset.id);
    });
    window.addEventListener("online", () => {
      if (!state.source || state.source.readyState !== EventSource.OPEN) {
        state.needResync = true;
        connect();
      }
    });
    connect();       // first, so that nothing published while the ledger loads is missed
    resync();
    setInterval(scheduleRender, 1000);   // time moves: the 15-minute window slides
    setInterval(recheckPending, 3000);
  }

  start();
})();
