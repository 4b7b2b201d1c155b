// dpo-toy course search: every word of the query must appear in a section's heading or text.
// The index (search-index.js) is a script, not JSON fetched at run time, so it works from file://.
(function () {
  "use strict";
  var box = document.getElementById("search"), list = document.getElementById("results");
  var index = window.DPO_TOY_SEARCH || [];
  if (!box || !list) return;

  function norm(s) {
    return s.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  }

  var sections = [];
  index.forEach(function (page) {
    page.sections.forEach(function (s) {
      sections.push({ page: page, s: s, hay: norm(page.title + " " + s.heading + " " + s.text), head: norm(s.heading) });
    });
  });

  function snippet(text, word) {
    var i = norm(text).indexOf(word);
    if (i < 0) return text.slice(0, 160);
    var start = Math.max(0, i - 70);
    return (start > 0 ? "…" : "") + text.slice(start, i + 90) + "…";
  }

  function run() {
    var words = norm(box.value).split(/\s+/).filter(function (w) { return w.length > 1; });
    list.textContent = "";
    if (!words.length) return;
    var hits = sections.filter(function (x) {
      return words.every(function (w) { return x.hay.indexOf(w) >= 0; });
    });
    hits.sort(function (a, b) {
      var ha = words.filter(function (w) { return a.head.indexOf(w) >= 0; }).length;
      var hb = words.filter(function (w) { return b.head.indexOf(w) >= 0; }).length;
      return hb - ha;
    });
    hits.slice(0, 20).forEach(function (x) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = x.page.page + (x.s.id ? "#" + x.s.id : "");
      a.textContent = x.page.title + (x.s.heading ? " › " + x.s.heading : "");
      var p = document.createElement("div");
      p.textContent = snippet(x.s.text, words[0]);
      p.style.color = "#555";
      li.appendChild(a);
      li.appendChild(p);
      list.appendChild(li);
    });
    if (!hits.length) list.textContent = "No section mentions all of: " + words.join(", ");
  }
  box.addEventListener("input", run);
})();
