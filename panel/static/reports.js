/* Financial reports: day / month / year totals from the gateway API's ledger, drawn as a chart of
 * approved volume and approval rate, with rejections by reason and a CSV download. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("report-form");
  const LABEL_LENGTH = { day: 10, month: 7, year: 4 };
  const MAX_SLOTS = 366;  // a longer range charts only the periods that had transactions
  let shownSlots = [];
  let loads = 0;

  function isoDate(date) {
    return [date.getFullYear(), String(date.getMonth() + 1).padStart(2, "0"), String(date.getDate()).padStart(2, "0")].join("-");
  }

  function params() {
    const data = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (value) data.set(key, value);
    return data;
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

  /* One report row as the page shows it: counts, volume in cents, approval rate of what was decided. */
  function summary(line) {
    const decided = line.approved_count + line.rejected_count;
    return {
      period: line.period, approved: line.approved_count, rejected: line.rejected_count,
      pending: line.pending_count || 0, decided, volumeCents: Panel.toCents(line.approved_volume),
      volumeText: Panel.formatAmount(line.approved_volume), rateText: Panel.percent(line.approved_count, decided),
    };
  }

  function addUp(lines) {
    const totals = { approved: 0, rejected: 0, pending: 0, volumeCents: 0, reasons: new Map() };
    for (const line of lines) {
      totals.approved += line.approved_count;
      totals.rejected += line.rejected_count;
      totals.pending += line.pending_count || 0;
      totals.volumeCents += Panel.toCents(line.approved_volume);
      for (const [reason, count] of Object.entries(line.rejected_by_reason || {})) {
        totals.reasons.set(reason, (totals.reasons.get(reason) || 0) + count);
      }
    }
    return totals;
  }

  function renderTable(summaries, totals) {
    const rows = summaries.map((s) => row([[s.period], [s.approved, "num"], [s.volumeText, "num"],
      [s.rateText, "num"], [s.rejected, "num"], [s.pending, "num"]], { "data-period": s.period }));
    const table = $("report-table");
    table.tBodies[0].replaceChildren(...(rows.length ? rows : [row([["No transactions in this range", "muted"]])]));
    table.tFoot.replaceChildren(row([
      ["Total", "head"], [totals.approved, "num", "total-approved-count"],
      [Panel.formatCents(totals.volumeCents), "num", "total-approved-volume"],
      [Panel.percent(totals.approved, totals.approved + totals.rejected), "num", "total-approval-rate"],
      [totals.rejected, "num", "total-rejected-count"], [totals.pending, "num", "total-pending-count"],
    ]));
  }

  /* Over the whole range, most frequent first: one row per reason. */
  function renderReasons(totals) {
    const entries = [...totals.reasons.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const rows = entries.map(([reason, count]) => row([[reason || "(no reason given)", "reason"], [count, "num"],
      [Panel.percent(count, totals.rejected), "num"]], { "data-reason": reason }));
    $("reasons-table").tBodies[0].replaceChildren(...(rows.length ? rows : [row([["No rejections in this range", "muted"]])]));
  }

  /* Every period of the range, so that a quiet day shows as a gap rather than disappearing. */
  function periodsBetween(first, last, period) {
    const labels = [];
    const end = Date.parse(last + "T00:00:00Z");
    const day = new Date(first + "T00:00:00Z");
    while (day.getTime() <= end && labels.length <= MAX_SLOTS) {
      labels.push(day.toISOString().slice(0, LABEL_LENGTH[period]));
      if (period === "day") day.setUTCDate(day.getUTCDate() + 1);
      else if (period === "month") day.setUTCMonth(day.getUTCMonth() + 1, 1);
      else day.setUTCFullYear(day.getUTCFullYear() + 1, 0, 1);
    }
    return labels.length > MAX_SLOTS || Number.isNaN(end) ? null : labels;
  }

  function slotsOf(report, summaries) {
    const byPeriod = new Map(summaries.map((s) => [s.period, s]));
    const labels = periodsBetween(report.from, report.to, report.period) || [];
    const missing = summaries.filter((s) => !labels.includes(s.period)).map((s) => s.period);
    return [...labels, ...missing].sort().map((period) => ({ period, line: byPeriod.get(period) || null }));
  }

  function render(report) {
    const lines = report.data || [];
    const summaries = lines.map(summary);
    const totals = addUp(lines);
    renderTable(summaries, totals);
    renderReasons(totals);
    $("report-chart-period").textContent = report.period;
    shownSlots = slotsOf(report, summaries);
    Chart.periods($("report-chart"), shownSlots);
  }

  async function load() {
    const query = params().toString();
    const asked = ++loads;
    $("csv-link").href = "/reports.csv?" + query;
    $("report-error").hidden = true;
    try {
      const report = await Panel.getJSON("/api/reports?" + query);
      if (asked !== loads) return;  // a later request was made meanwhile: its answer is the one to show
      render(report);
      form.dataset.loaded = query;
    } catch (error) {
      if (asked !== loads) return;
      $("report-error").textContent = error.message;
      $("report-error").hidden = false;
    }
  }

  function redrawOnResize() {
    let queued = false;
    window.addEventListener("resize", () => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        Chart.periods($("report-chart"), shownSlots);
      });
    });
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
    redrawOnResize();
    load();
  }

  start();
})();
