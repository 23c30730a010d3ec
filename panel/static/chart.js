/* Small charts drawn in SVG by hand (no library, nothing from a CDN):
 * - bars(): the live view's stacked bars, one per minute, approved / rejected / pending;
 * - periods(): the reports' approved volume (bars, left axis) and approval rate (points, right axis).
 */
"use strict";

const Chart = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const CLOCK = { hour: "2-digit", minute: "2-digit", hour12: false };
  const WIDTH = 600, HEIGHT = 180, LEFT = 34, BOTTOM = 20, TOP = 8;

  function node(tag, attrs, text) {
    const element = document.createElementNS(NS, tag);
    for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, value);
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function niceMax(value) {
    if (value <= 4) return 4;
    const magnitude = 10 ** Math.floor(Math.log10(value));
    return [1, 2, 2.5, 5, 10].map((step) => step * magnitude).find((candidate) => candidate >= value);
  }

  function bars(svg, buckets) {
    const max = niceMax(Math.max(0, ...buckets.map((b) => b.approved + b.rejected + b.pending)));
    const plotHeight = HEIGHT - BOTTOM - TOP;
    const slot = (WIDTH - LEFT) / buckets.length;
    const children = [];
    for (const fraction of [0, 0.5, 1]) {
      const y = TOP + plotHeight * (1 - fraction);
      children.push(node("line", { x1: LEFT, x2: WIDTH, y1: y, y2: y, class: "grid" }));
      children.push(node("text", { x: LEFT - 4, y: y + 4, class: "axis", "text-anchor": "end" }, String(Math.round(max * fraction))));
    }
    buckets.forEach((bucket, index) => {
      let base = TOP + plotHeight;
      const x = LEFT + index * slot + slot * 0.15;
      for (const status of ["approved", "rejected", "pending"]) {
        const height = plotHeight * (bucket[status] || 0) / max;
        if (height > 0) {
          base -= height;
          const rect = node("rect", { x, y: base, width: slot * 0.7, height, class: "bar " + status });
          rect.append(node("title", {}, `${new Date(bucket.start).toLocaleTimeString([], CLOCK)}: ${bucket[status]} ${status}`));
          children.push(rect);
        }
      }
      if (index % 5 === 4 || index === 0) {
        const label = new Date(bucket.start).toLocaleTimeString([], CLOCK);
        const anchor = index === 0 ? "start" : index === buckets.length - 1 ? "end" : "middle";
        const labelX = anchor === "start" ? x : anchor === "end" ? x + slot * 0.7 : x + slot * 0.35;
        children.push(node("text", { x: labelX, y: HEIGHT - 4, class: "axis", "text-anchor": anchor }, label));
      }
    });
    svg.replaceChildren(...children);
  }

  const REPORT = { height: 220, left: 62, right: 46, top: 12, bottom: 24, labelWidth: 64 };
  const COMPACT = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });

  /* One slot per period of the range ({ period, line }: line is null when nothing happened then);
   * a line is { approved, decided, volumeCents, volumeText, rateText }. Every period with a line
   * gets a bar labelled with its volume, and a point with its approval rate when anything was
   * decided; the labels are what a screen reader announces and what the tests read. */
  function periods(svg, slots) {
    const width = Math.max(300, Math.round(svg.getBoundingClientRect().width) || 600);
    svg.setAttribute("viewBox", `0 0 ${width} ${REPORT.height}`);
    const plot = { x: REPORT.left, y: REPORT.top, w: width - REPORT.left - REPORT.right,
                   h: REPORT.height - REPORT.top - REPORT.bottom };
    const maxUnits = niceMax(Math.max(0, ...slots.map((s) => (s.line ? s.line.volumeCents : 0))) / 100);
    const slot = plot.w / Math.max(1, slots.length);
    const bars = [], points = [];
    slots.forEach((s, index) => {
      if (!s.line) return;
      const center = plot.x + slot * (index + 0.5);
      bars.push(volumeBar(s, center, Math.max(1, slot * 0.7), plot, maxUnits));
      if (s.line.decided) points.push({ index, x: center, y: plot.y + plot.h * (1 - s.line.approved / s.line.decided), slot: s });
    });
    svg.replaceChildren(...axes(plot, maxUnits), ...bars, ...rateLines(points), ...points.map(ratePoint),
      ...periodLabels(slots, slot, plot), ...(slots.some((s) => s.line) ? [] : [emptyNote(plot)]));
  }

  function axes(plot, maxUnits) {
    const children = [];
    for (const fraction of [0, 0.5, 1]) {
      const y = plot.y + plot.h * (1 - fraction);
      children.push(node("line", { x1: plot.x, x2: plot.x + plot.w, y1: y, y2: y, class: "grid" }));
      children.push(node("text", { x: plot.x - 6, y: y + 4, class: "axis volume-axis", "text-anchor": "end" },
        COMPACT.format(maxUnits * fraction)));
      children.push(node("text", { x: plot.x + plot.w + 6, y: y + 4, class: "axis rate-axis", "text-anchor": "start" },
        `${Math.round(100 * fraction)}%`));
    }
    return children;
  }

  function volumeBar({ period, line }, center, width, plot, maxUnits) {
    const height = plot.h * (line.volumeCents / 100) / maxUnits;
    const label = `${period}: approved volume ${line.volumeText} (${line.approved} approved)`;
    const rect = node("rect", { x: center - width / 2, y: plot.y + plot.h - height, width, height,
      class: "volume-bar", role: "img", "aria-label": label, "data-period": period, "data-volume": line.volumeText });
    rect.append(node("title", {}, label));
    return rect;
  }

  /* The approval rate as a line that breaks where a period decided nothing. */
  function rateLines(points) {
    const runs = [];
    points.forEach((point, i) => {
      if (i === 0 || point.index !== points[i - 1].index + 1) runs.push([]);
      runs[runs.length - 1].push(`${point.x},${point.y}`);
    });
    return runs.filter((run) => run.length > 1)
      .map((run) => node("polyline", { points: run.join(" "), class: "rate-line", "aria-hidden": "true" }));
  }

  function ratePoint({ x, y, slot: { period, line } }) {
    const label = `${period}: approval rate ${line.rateText} (${line.approved} of ${line.decided} decided)`;
    const circle = node("circle", { cx: x, cy: y, r: 4, class: "rate-point", role: "img", "aria-label": label,
      "data-period": period, "data-rate": line.rateText });
    circle.append(node("title", {}, label));
    return circle;
  }

  function periodLabels(slots, slot, plot) {
    const every = Math.max(1, Math.ceil(slots.length / Math.max(1, Math.floor(plot.w / REPORT.labelWidth))));
    return slots.flatMap(({ period }, index) => (index % every ? [] : [node("text", {
      x: plot.x + slot * (index + 0.5), y: plot.y + plot.h + 16, class: "axis", "text-anchor": "middle",
    }, period.length === 10 ? period.slice(5) : period)]));
  }

  function emptyNote(plot) {
    return node("text", { x: plot.x + plot.w / 2, y: plot.y + plot.h / 2, class: "axis empty-note",
      "text-anchor": "middle" }, "No transactions in this range");
  }

  return { bars, periods };
})();
