/* Shared helpers of the panel pages: JSON fetches, money in cents, formatting. No dependencies. */
"use strict";

const Panel = (() => {
  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    return answer(response);
  }

  /* POST or DELETE with the page's CSRF token (the panel refuses unsafe requests without it). */
  async function sendJSON(method, url, body) {
    const token = document.querySelector('meta[name="csrf-token"]');
    const response = await fetch(url, {
      method, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": token ? token.content : "" },
    });
    return answer(response);
  }

  async function answer(response) {
    if (response.status === 401) {
      window.location.assign("/login?next=" + encodeURIComponent(location.pathname));
      throw new Error("signed out");
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = (body.error && body.error.message) || "Request failed (" + response.status + ")";
      throw new Error(message);
    }
    return body;
  }

  /* Decimal strings to integer cents and back: money never goes through floating point. */
  function toCents(amount) {
    if (amount === null || amount === undefined || amount === "") return 0;
    const text = String(amount);
    const negative = text.startsWith("-");
    const [whole, fraction = ""] = text.replace("-", "").split(".");
    const cents = parseInt(whole || "0", 10) * 100 + parseInt((fraction + "00").slice(0, 2), 10);
    return negative ? -cents : cents;
  }

  function formatCents(cents) {
    const whole = Math.trunc(Math.abs(cents) / 100).toLocaleString("en-US");
    const fraction = String(Math.abs(cents) % 100).padStart(2, "0");
    return (cents < 0 ? "-" : "") + whole + "." + fraction;
  }

  function formatAmount(amount) {
    return amount === null || amount === undefined ? "–" : formatCents(toCents(amount));
  }

  /* part / whole in per cent with one decimal, rounded half up in integers ("62.5%"); "–" for 0 / 0. */
  function percent(part, whole) {
    if (!whole) return "–";
    const tenths = Math.floor((2000 * part + whole) / (2 * whole));
    return Math.floor(tenths / 10) + "." + (tenths % 10) + "%";
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  function isAdmin() {
    return document.body.dataset.admin === "1";
  }

  /* The operator's merchants, read once per page and shared by the filter and the merchant column:
   * one request however many rows. An account the list does not know was created since: the list is
   * read again, at most every few seconds and once for each such account, never once per row. */
  const merchants = (() => {
    const REFRESH_MS = 5000;
    let names = null, loading = null, timer = null, refreshedAt = 0;
    const asked = new Set(), wanted = new Set();

    function load() {
      loading = getJSON("/api/accounts").then((body) => {
        names = new Map((body.data || []).map((account) => [account.id, account.name]));
        return names;
      }).finally(() => { loading = null; });
      return loading;
    }

    function ask(id, learned) {
      if (asked.has(id)) return;
      wanted.add(id);
      if (timer) return;
      timer = setTimeout(() => {
        refreshedAt = Date.now();
        const asking = [...wanted];
        wanted.clear();
        for (const each of asking) asked.add(each);
        (loading || load()).then(learned)
          .catch(() => { for (const each of asking) asked.delete(each); })  // asked again at the next render
          .finally(() => { timer = null; });
      }, Math.max(0, refreshedAt + REFRESH_MS - Date.now()));
    }

    return {
      all: () => (names ? Promise.resolve(names) : loading || load()),
      /* The name; undefined while the list is read; null for an account it does not know, which is
       * then asked for: ``learned`` runs once the list has been read again. */
      name(id, learned = () => {}) {
        if (!names) return undefined;
        const name = names.get(id) ?? null;
        if (name === null) ask(id, learned);
        return name;
      },
    };
  })();

  /* An account id short enough for a table cell: "acct_" and 8 hex digits, unique enough to tell apart. */
  function shortId(id) {
    return String(id || "").slice(0, 13);
  }

  async function fillMerchants(select) {
    if (!select) return;
    const known = new Set([...select.options].map((option) => option.value));
    for (const [id, name] of await merchants.all()) {
      if (!known.has(id)) select.append(el("option", { value: id, text: name + " (" + shortId(id) + ")" }));
    }
  }

  return { getJSON, sendJSON, toCents, formatCents, formatAmount, percent, el, isAdmin, merchants, shortId, fillMerchants };
})();
