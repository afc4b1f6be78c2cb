/* msgbench report: sortable tables and the wire-cost calculator. Plain JS, no dependencies. */
(function () {
  "use strict";

  // ---- phones: long sections and the per-answer numbers start folded (open without JS)
  if (window.matchMedia && window.matchMedia("(max-width: 640px)").matches) {
    Array.prototype.forEach.call(document.querySelectorAll("details.fold, details.numbers"), function (d) {
      d.removeAttribute("open");
    });
  }

  // ---- sortable tables: numeric columns sort on data-sort (raw number); missing values go last
  function sortKey(td, numeric) {
    if (!td) { return numeric ? NaN : ""; }
    var v = td.getAttribute("data-sort");
    if (numeric) { return v === null || v === "" ? NaN : parseFloat(v); }
    return (v !== null ? v : td.textContent).trim().toLowerCase();
  }

  function sortBy(table, th, index) {
    var numeric = th.getAttribute("data-type") === "num";
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    Array.prototype.forEach.call(th.parentNode.cells, function (o) { o.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = sortKey(a.cells[index], numeric), y = sortKey(b.cells[index], numeric);
      if (numeric) {
        var xn = isNaN(x), yn = isNaN(y);
        if (xn || yn) { return xn === yn ? 0 : (xn ? 1 : -1); }
        return (x - y) * dir;
      }
      return x < y ? -dir : (x > y ? dir : 0);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      var btn = th.querySelector("button");
      if (btn) { btn.addEventListener("click", function () { sortBy(table, th, i); }); }
    });
  });

  // ---- "What it costs on the wire" (same formulas and formatting as reports/analysis.py)
  function sig3(x) {
    if (x === null || x === undefined || !isFinite(x)) { return "\u2013"; }
    if (x === 0) { return "0"; }
    var a = Math.abs(x);
    if (a < 0.001) { return "< 0.001"; }
    if (a >= 1000) { return Math.round(x).toLocaleString("en-US"); }
    return x.toFixed(Math.max(0, 2 - Math.floor(Math.log10(a))));
  }

  var dataEl = document.getElementById("calc-data");
  var rateEl = document.getElementById("calc-rate");
  var linkEl = document.getElementById("calc-link");
  var selEl = document.getElementById("calc-payload");
  if (!dataEl || !rateEl || !linkEl || !selEl) { return; }
  var data = JSON.parse(dataEl.textContent);
  var names = Object.keys(data.payloads);

  function setCell(td, value, suffix) {
    if (!td) { return; }
    td.textContent = sig3(value) + (suffix || "");
    td.setAttribute("data-sort", value === null || !isFinite(value) ? "" : String(value));
    if (suffix) { td.classList.toggle("over", value !== null && value > 100); }
  }

  function update() {
    var rate = parseFloat(rateEl.value), linkBps = parseFloat(linkEl.value) * 1e9;
    var okRate = isFinite(rate) && rate >= 0, okLink = isFinite(linkBps) && linkBps > 0;
    rateEl.setAttribute("aria-invalid", okRate ? "false" : "true");
    linkEl.setAttribute("aria-invalid", okLink ? "false" : "true");
    Array.prototype.forEach.call(document.querySelectorAll(".calc-block"), function (block) {
      var idx = parseInt(block.getAttribute("data-index"), 10);
      block.hidden = selEl.value !== "all" && selEl.value !== String(idx);
      var items = data.payloads[names[idx]] || [];
      Array.prototype.forEach.call(block.querySelectorAll("tr[data-i]"), function (tr) {
        var it = items[parseInt(tr.getAttribute("data-i"), 10)];
        if (!it) { return; }
        var t = (it.enc_ns === null || it.dec_ns === null) ? null : it.enc_ns + it.dec_ns;
        setCell(tr.querySelector('[data-cell="cpu"]'), okRate && t !== null ? rate * t / 1e9 : null, "");
        setCell(tr.querySelector('[data-cell="link"]'),
                okRate && okLink && it.bytes !== null ? rate * it.bytes * 8 / linkBps * 100 : null, " %");
        setCell(tr.querySelector('[data-cell="linkz"]'),
                okRate && okLink && it.zstd !== null ? rate * it.zstd * 8 / linkBps * 100 : null, " %");
        (data.transports || []).forEach(function (t) {  // measured CPU per call over a real transport
          var ns = it.per_call ? it.per_call[t.name] : undefined;
          setCell(tr.querySelector('[data-cell="call-' + t.name + '"]'),
                  okRate && typeof ns === "number" ? rate * ns / 1e9 : null, "");
        });
      });
    });
  }

  rateEl.addEventListener("input", update);
  linkEl.addEventListener("input", update);
  selEl.addEventListener("change", update);
  update();

  // ---- print everything: open collapsed details and show every calculator table
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details:not([open])"), function (d) {
      d.setAttribute("open", ""); d.setAttribute("data-print-opened", "");
    });
  });
  window.addEventListener("afterprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details[data-print-opened]"), function (d) {
      d.removeAttribute("open"); d.removeAttribute("data-print-opened");
    });
  });
})();
