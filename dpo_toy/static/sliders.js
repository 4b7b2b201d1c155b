// dpo-toy static sliders: a range input over precomputed states, a readout line and an SVG picture.
// No dependencies, no requests: the data is in a <script type="application/json"> next to each slider.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";

  function el(tag, attrs, parent, text) {
    var node = document.createElementNS(NS, tag);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  function fmt(v) {
    var a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(1) : String(+v.toPrecision(3));
  }

  // A panel: a box in the SVG with linear (or log10) axes, ticks and a title.
  function panel(svg, box, xlim, ylim, opts) {
    opts = opts || {};
    var g = el("g", {}, svg);
    var ty = opts.logy ? function (v) { return Math.log10(v); } : function (v) { return v; };
    var y0 = ty(ylim[0]), y1 = ty(ylim[1]);
    var p = {
      g: g,
      x: function (v) { return box.x + (v - xlim[0]) / (xlim[1] - xlim[0]) * box.w; },
      y: function (v) { return box.y + box.h - (ty(v) - y0) / (y1 - y0) * box.h; },
    };
    el("rect", { x: box.x, y: box.y, width: box.w, height: box.h, fill: "none", stroke: "#444" }, g);
    var ticks = opts.yticks || [];
    ticks.forEach(function (t) {
      var yy = p.y(t);
      el("line", { x1: box.x - 4, x2: box.x, y1: yy, y2: yy, stroke: "#444" }, g);
      el("text", { x: box.x - 6, y: yy + 4, "text-anchor": "end", "font-size": 11 }, g, opts.logy ? "1e" + Math.round(Math.log10(t)) : fmt(t));
    });
    (opts.xticks || []).forEach(function (t) {
      var xx = p.x(t);
      el("line", { x1: xx, x2: xx, y1: box.y + box.h, y2: box.y + box.h + 4, stroke: "#444" }, g);
      el("text", { x: xx, y: box.y + box.h + 16, "text-anchor": "middle", "font-size": 11 }, g, fmt(t));
    });
    if (opts.title) el("text", { x: box.x + box.w / 2, y: box.y - 8, "text-anchor": "middle", "font-size": 13 }, g, opts.title);
    if (opts.xlabel) el("text", { x: box.x + box.w / 2, y: box.y + box.h + 32, "text-anchor": "middle", "font-size": 12 }, g, opts.xlabel);
    if (opts.ylabel) el("text", { x: box.x - 42, y: box.y + box.h / 2, "text-anchor": "middle", "font-size": 12, transform: "rotate(-90 " + (box.x - 42) + " " + (box.y + box.h / 2) + ")" }, g, opts.ylabel);
    return p;
  }

  function ticks(lo, hi, n) {
    var step = Math.pow(10, Math.floor(Math.log10((hi - lo) / n)));
    [1, 2, 5, 10].some(function (m) { if ((hi - lo) / (step * m) <= n) { step *= m; return true; } return false; });
    var out = [];
    for (var t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) out.push(+t.toPrecision(6));
    return out;
  }

  function legend(p, x, y, items) {
    items.forEach(function (it, i) {
      el("rect", { x: x, y: y + i * 15 - 9, width: 10, height: 10, fill: it[1] }, p.g);
      el("text", { x: x + 14, y: y + i * 15, "font-size": 11 }, p.g, it[0]);
    });
  }

  // Bars of a reference (grey) and a current series (colour), labelled with the current values.
  function bars(p, n, ref, cur, color, labels, ybase, text) {
    var w = (p.x(1) - p.x(0)) * 0.38;
    for (var i = 0; i < n; i++) {
      if (ref) el("rect", { x: p.x(i) - w, y: p.y(ref[i]), width: w, height: p.y(ybase) - p.y(ref[i]), fill: "#bfbfbf" }, p.g);
      var v = cur[i], top = Math.min(p.y(v), p.y(ybase)), h = Math.abs(p.y(ybase) - p.y(v));
      el("rect", { class: "dpo-bar", x: ref ? p.x(i) : p.x(i) - w / 2, y: top, width: w, height: h, fill: color }, p.g);
      el("text", { class: "dpo-value", x: ref ? p.x(i) + w / 2 : p.x(i), y: Math.min(p.y(Math.max(v, ybase)), p.y(ybase)) - 3, "text-anchor": "middle", "font-size": 10 }, p.g, text(i));
      if (labels) el("text", { x: p.x(i), y: p.y(ybase === 0 ? 0 : p.ylo) + 14, "text-anchor": "middle", "font-size": 10 }, p.g, labels[i].length > 18 ? labels[i].slice(0, 17) + "…" : labels[i]);
    }
  }

  function polyline(p, xs, ys, attrs) {
    var pts = xs.map(function (x, i) { return p.x(x).toFixed(1) + "," + p.y(ys[i]).toFixed(1); }).join(" ");
    attrs.points = pts;
    attrs.fill = "none";
    return el("polyline", attrs, p.g);
  }

  var DRAW = {
    policy: function (svg, d, f) {
      var n = d.responses.length;
      var left = panel(svg, { x: 60, y: 30, w: 400, h: 230 }, [-0.6, n - 0.4], [0, 1.12], { title: "π_ref and π* (numbers: π*)", ylabel: "probability", yticks: [0, 0.25, 0.5, 0.75, 1] });
      bars(left, n, d.pi_ref, f.bars, "#1f77b4", d.responses, 0, function (i) { return f.bars[i].toFixed(3); });
      legend(left, 370, 48, [["π_ref", "#bfbfbf"], ["π*", "#1f77b4"]]);
      var kl = d.frontier[0], r = d.frontier[1];
      var xl = [Math.min.apply(null, kl), Math.max.apply(null, kl)], yl = [Math.min.apply(null, r), Math.max.apply(null, r)];
      var pad = (yl[1] - yl[0]) * 0.05 || 0.1;
      var right = panel(svg, { x: 540, y: 30, w: 300, h: 230 }, [xl[0], xl[1] * 1.02 + 1e-9], [yl[0] - pad, yl[1] + pad], { title: "the reward–KL frontier", xlabel: "KL(π*‖π_ref)", ylabel: "E_π*[r]", xticks: ticks(xl[0], xl[1], 4), yticks: ticks(yl[0] - pad, yl[1] + pad, 4) });
      polyline(right, kl, r, { stroke: "#666", "stroke-width": 1.5 });
      el("circle", { class: "dpo-marker", cx: right.x(f.point[0]), cy: right.y(f.point[1]), r: 6, fill: "#d62728" }, right.g);
    },
    prior: function (svg, d, f) {
      var n = d.names.length;
      var p = panel(svg, { x: 60, y: 20, w: 780, h: 220 }, [-0.6, n - 0.4], d.ylim, { ylabel: "Elo − mean", yticks: ticks(d.ylim[0], d.ylim[1], 5) });
      p.ylo = d.ylim[0];
      el("line", { x1: p.x(-0.6), x2: p.x(n - 0.4), y1: p.y(0), y2: p.y(0), stroke: "#444" }, p.g);
      var clipped = f.bars.map(function (v) { return Math.max(Math.min(v, d.ylim[1]), d.ylim[0]); });
      bars(p, n, null, clipped, "#2ca02c", null, 0, function (i) {
        var v = f.bars[i];  // the true rating; an arrow when the bar is cut at the top of the scale
        return (v >= 0 ? "+" : "") + v.toFixed(0) + (v > d.ylim[1] ? "↑" : "");
      });
      d.names.forEach(function (name, i) {
        el("text", { x: p.x(i), y: 256, "text-anchor": "middle", "font-size": 10 }, p.g, name.length > 16 ? name.slice(0, 15) + "…" : name);
      });
    },
    training: function (svg, d, f) {
      var n = d.responses.length;
      var left = panel(svg, { x: 60, y: 30, w: 400, h: 230 }, [-0.6, n - 0.4], [0, 1.12], { title: "π_ref, DPO-trained π_θ, and π*", ylabel: "probability", yticks: [0, 0.25, 0.5, 0.75, 1] });
      bars(left, n, d.pi_ref, f.bars, "#ff7f0e", d.responses, 0, function (i) { return f.bars[i].toFixed(3); });
      var w = (left.x(1) - left.x(0)) * 0.38;
      f.marks.forEach(function (m, i) {
        el("line", { class: "dpo-mark", x1: left.x(i) - 4, x2: left.x(i) + w + 4, y1: left.y(m), y2: left.y(m), stroke: "#000", "stroke-width": 2.5 }, left.g);
      });
      legend(left, 340, 48, [["π_ref", "#bfbfbf"], ["π_θ (DPO)", "#ff7f0e"], ["π* (closed form)", "#000"]]);
      var last = d.tv_steps[d.tv_steps.length - 1];
      var right = panel(svg, { x: 540, y: 30, w: 300, h: 230 }, [0, last], [1e-7, 1], { logy: true, title: "distance to π* during training", xlabel: "Adam step", ylabel: "total variation to π*", xticks: ticks(0, last, 3), yticks: [1e-7, 1e-5, 1e-3, 1e-1] });
      el("line", { x1: right.x(0), x2: right.x(last), y1: right.y(1e-3), y2: right.y(1e-3), stroke: "#888", "stroke-dasharray": "5 4" }, right.g);
      var tv = f.tv.map(function (v) { return Math.max(v, 1e-7); });
      polyline(right, d.tv_steps, tv, { class: "dpo-tv", stroke: "#ff7f0e", "stroke-width": 1.5 });
    },
  };

  function setup(root) {
    var d = JSON.parse(root.querySelector(".dpo-slider-data").textContent);
    var id = root.id + "-input";
    var controls = document.createElement("div");
    controls.className = "dpo-slider-controls";
    var label = document.createElement("label");
    label.setAttribute("for", id);
    label.textContent = d.label + " ";
    var input = document.createElement("input");
    input.type = "range";
    input.id = id;
    input.min = 0;
    input.max = d.values.length - 1;
    input.step = 1;
    input.value = d.start;
    var shown = document.createElement("output");
    shown.setAttribute("for", id);
    controls.appendChild(label);
    controls.appendChild(input);
    controls.appendChild(shown);
    var menu = null;
    if (d.datasets && d.datasets.length > 1) {
      menu = document.createElement("select");
      menu.setAttribute("aria-label", "data");
      d.datasets.forEach(function (name, i) {
        var o = document.createElement("option");
        o.value = i;
        o.textContent = name;
        menu.appendChild(o);
      });
      var ml = document.createElement("label");
      ml.textContent = " data ";
      ml.appendChild(menu);
      controls.appendChild(ml);
    }
    var readout = document.createElement("pre");
    readout.className = "dpo-slider-readout";
    var svg = el("svg", { class: "dpo-slider-picture", viewBox: "0 0 860 " + (d.kind === "prior" ? 270 : 300), width: "100%", role: "img" });
    var table = d.tables ? document.createElement("div") : null;
    var note = root.querySelector(".dpo-slider-note");
    root.insertBefore(controls, note);
    root.insertBefore(readout, note);
    root.insertBefore(svg, note);
    if (table) root.insertBefore(table, note);

    function update() {
      var k = +input.value, s = menu ? +menu.value : 0;
      var v = d.values[k];
      shown.textContent = v < 1e-3 || v >= 1e4 ? v.toExponential(1) : v.toPrecision(3);
      input.setAttribute("aria-valuetext", d.label + " = " + shown.textContent);
      readout.textContent = d.readouts[s][k];
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      DRAW[d.kind](svg, d, d.frames[s][k]);
      if (table) table.innerHTML = d.tables[k];
    }
    input.addEventListener("input", update);
    input.addEventListener("change", update);
    if (menu) menu.addEventListener("change", update);
    update();
  }

  function init() {
    var roots = document.querySelectorAll(".dpo-slider");
    for (var i = 0; i < roots.length; i++) setup(roots[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
