/* A small stacked bar chart drawn in SVG: one bar per minute, approved / rejected / pending. */
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

  return { bars };
})();
