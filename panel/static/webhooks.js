/* Webhooks: the merchant's endpoints (add, roll secret, delete) and recent deliveries with resend. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const REFRESH_MS = 2000;
  const BADGE = { delivered: "approved", failed: "rejected", pending: "pending", canceled: "pending" };

  function time(value) {
    if (!value) return "–";
    const moment = new Date(value);
    const today = moment.toDateString() === new Date().toDateString();
    return today ? moment.toLocaleTimeString() : moment.toLocaleString();
  }

  function showError(error) {
    $("webhook-error").textContent = error ? error.message : "";
    $("webhook-error").hidden = !error;
  }

  async function act(work) {
    showError(null);
    try {
      await work();
    } catch (error) {
      showError(error);
    }
  }

  function showSecret(endpoint) {
    $("secret-endpoint").textContent = endpoint.url;
    $("secret-value").textContent = endpoint.secret;
    $("secret-box").hidden = false;
  }

  /* A change: the merchant's own secret goes with it (the panel session can only read). */
  function change(method, url, body) {
    return Panel.sendJSON(method, url, Object.assign({ account_secret: $("account-secret").value }, body || {}));
  }

  function button(text, attrs) {
    return Panel.el("button", Object.assign({ type: "button", text }, attrs));
  }

  function endpointRow(endpoint) {
    const actions = Panel.el("td", { class: "actions" },
      button("Roll secret", { "data-action": "roll" }), button("Delete", { "data-action": "delete" }));
    return Panel.el("tr", { "data-endpoint": endpoint.id },
      Panel.el("td", { class: "id url", text: endpoint.url, title: endpoint.url }),
      Panel.el("td", { text: endpoint.enabled_events.join(", ") }),
      Panel.el("td", { class: "reason", text: endpoint.description || "" }),
      Panel.el("td", { text: time(endpoint.created_at) }), actions);
  }

  async function loadEndpoints() {
    const body = await Panel.getJSON("/api/webhook_endpoints");
    const rows = (body.data || []).map(endpointRow);
    $("endpoints").tBodies[0].replaceChildren(...rows);
    $("no-endpoints").hidden = rows.length > 0;
    $("endpoints").dataset.loaded = String(rows.length);
  }

  function lastAnswer(delivery) {
    if (delivery.last_http_status) return "HTTP " + delivery.last_http_status + (delivery.last_error ? " · " + delivery.last_error : "");
    return delivery.last_error || "–";
  }

  function deliveryRow(delivery) {
    const status = Panel.el("span", { class: "badge " + (BADGE[delivery.status] || "pending"), text: delivery.status });
    const event = Panel.el("td", { class: "event" }, Panel.el("span", { text: delivery.event_type }),
      Panel.el("small", { class: "muted id", text: delivery.event_id }));
    return Panel.el("tr", { "data-delivery": delivery.id, "data-event": delivery.event_id,
      "data-endpoint": delivery.endpoint_id, "data-status": delivery.status },
    Panel.el("td", { text: time(delivery.created_at) }), event, Panel.el("td", { class: "url", text: delivery.url }),
    Panel.el("td", {}, status), Panel.el("td", { class: "num attempts", text: String(delivery.attempt_count) }),
    Panel.el("td", { class: "reason last-answer", text: lastAnswer(delivery) }),
    Panel.el("td", { text: delivery.status === "pending" ? time(delivery.next_attempt_at) : "–" }),
    Panel.el("td", { class: "actions" }, button("Resend", { "data-action": "resend" })));
  }

  async function loadDeliveries() {
    const status = $("delivery-filter").value;
    const body = await Panel.getJSON("/api/webhook_deliveries?limit=50" + (status ? "&status=" + status : ""));
    const rows = (body.data || []).map(deliveryRow);
    $("deliveries").tBodies[0].replaceChildren(...rows);
    $("no-deliveries").hidden = rows.length > 0;
  }

  async function showAttempts(row) {
    const log = await Panel.getJSON("/api/events/" + encodeURIComponent(row.dataset.event) + "/deliveries");
    const delivery = (log.data || []).find((item) => item.id === row.dataset.delivery);
    const attempts = delivery ? delivery.attempts : [];
    $("attempt-log-delivery").textContent = row.dataset.delivery;
    $("attempt-log-body").replaceChildren(...attempts.map((a) => Panel.el("tr", { "data-attempt": String(a.attempt) },
      Panel.el("td", { text: String(a.attempt) }), Panel.el("td", { text: time(a.attempted_at) }),
      Panel.el("td", { class: "reason", text: (a.http_status ? "HTTP " + a.http_status : a.outcome) + (a.error ? " · " + a.error : "") }),
      Panel.el("td", { class: "num", text: String(a.duration_ms) }), Panel.el("td", { text: time(a.next_attempt_at) }))));
    $("attempt-log").showModal();
  }

  function onEndpointClick(event) {
    const action = event.target.dataset.action;
    const row = event.target.closest("tr[data-endpoint]");
    if (!action || !row) return;
    const path = "/api/webhook_endpoints/" + encodeURIComponent(row.dataset.endpoint);
    if (action === "roll") {
      act(async () => showSecret(await change("POST", path + "/secret")));
    } else if (action === "delete" && window.confirm("Delete this endpoint? Nothing more will be sent to it.")) {
      act(async () => { await change("DELETE", path); await loadEndpoints(); });
    }
  }

  function onDeliveryClick(event) {
    const row = event.target.closest("tr[data-delivery]");
    if (!row) return;
    if (event.target.dataset.action === "resend") {
      act(async () => {
        await change("POST", "/api/events/" + encodeURIComponent(row.dataset.event) + "/resend",
          { endpoint_id: row.dataset.endpoint });
        await loadDeliveries();
      });
    } else {
      act(() => showAttempts(row));
    }
  }

  async function addEndpoint(event) {
    event.preventDefault();
    const form = $("endpoint-form");
    const events = [...form.querySelectorAll("input[name=event]:checked")].map((input) => input.value);
    await act(async () => {
      const created = await change("POST", "/api/webhook_endpoints",
        { url: $("endpoint-url").value.trim(), enabled_events: events, description: $("endpoint-description").value || null });
      showSecret(created);
      form.reset();
      await loadEndpoints();
    });
  }

  function start() {
    $("endpoint-form").addEventListener("submit", addEndpoint);
    $("endpoints").addEventListener("click", onEndpointClick);
    $("deliveries").addEventListener("click", onDeliveryClick);
    $("delivery-filter").addEventListener("change", () => act(loadDeliveries));
    $("secret-done").addEventListener("click", () => {
      $("secret-box").hidden = true;
      $("secret-value").textContent = "";
    });
    act(loadEndpoints);
    act(loadDeliveries);
    // Deliveries change by themselves (attempts, retries): keep the table current while the page is open.
    setInterval(() => { if (!document.hidden) loadDeliveries().catch(showError); }, REFRESH_MS);
  }

  start();
})();
