/* Financial reports: day / month / year totals from the gateway API's ledger, with a CSV download. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("report-form");

  function isoDate(date) {
    return [date.getFullYear(), String(date.getMonth() + 1).padStart(2, "0"), String(date.getDate()).padStart(2, "0")].join("-");
  }

  function params() {
    const data = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (value) data.set(key, value);
    return data;
  }

  function reasonsText(reasons) {
    const entries = Object.entries(reasons || {}).sort((a, b) => b[1] - a[1]);
    return entries.length ? entries.map(([reason, count]) => `${reason}: ${count}`).join("; ") : "–";
  }

  function row(cells, attrs = {}) {
    const tr = Panel.el("tr", attrs);
    for (const [text, cls, id] of cells) {
      const attributes = { class: cls || "", text: String(text) };
      if (id) attributes.id = id;
      tr.append(Panel.el(cls === "head" ? "th" : "td", attributes));
    }
    return tr;
  }

  function render(report) {
    const totals = { approved: 0, volume: 0, rejected: 0, pending: 0, reasons: {} };
    const rows = (report.data || []).map((line) => {
      totals.approved += line.approved_count;
      totals.volume += Panel.toCents(line.approved_volume);
      totals.rejected += line.rejected_count;
      totals.pending += line.pending_count || 0;
      for (const [reason, count] of Object.entries(line.rejected_by_reason || {})) {
        totals.reasons[reason] = (totals.reasons[reason] || 0) + count;
      }
      return row([[line.period], [line.approved_count, "num"], [Panel.formatAmount(line.approved_volume), "num"],
        [line.rejected_count, "num"], [reasonsText(line.rejected_by_reason), "reason"], [line.pending_count || 0, "num"]],
        { "data-period": line.period });
    });
    const table = $("report-table");
    table.tBodies[0].replaceChildren(...(rows.length ? rows
      : [row([["No transactions in this range", "muted"]])]));
    table.tFoot.replaceChildren(row([
      ["Total", "head"], [totals.approved, "num", "total-approved-count"],
      [Panel.formatCents(totals.volume), "num", "total-approved-volume"],
      [totals.rejected, "num", "total-rejected-count"], [reasonsText(totals.reasons), "reason", "total-reasons"],
      [totals.pending, "num", "total-pending-count"],
    ]));
  }

  async function load() {
    const query = params().toString();
    $("csv-link").href = "/reports.csv?" + query;
    $("report-error").hidden = true;
    try {
      render(await Panel.getJSON("/api/reports?" + query));
      form.dataset.loaded = query;
    } catch (error) {
      $("report-error").textContent = error.message;
      $("report-error").hidden = false;
    }
  }

  function start() {
    const today = new Date();
    $("from").value = isoDate(new Date(today.getFullYear(), today.getMonth(), 1));
    $("to").value = isoDate(today);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      load();
    });
    form.addEventListener("change", () => { $("csv-link").href = "/reports.csv?" + params().toString(); });
    Panel.fillMerchants($("merchant-filter")).catch(() => {});
    load();
  }

  start();
})();
