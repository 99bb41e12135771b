/* critmin dashboard: draws the embedded Plotly figures and makes tables sortable. No external request. */
"use strict";
(function () {
  var self = document.currentScript;
  var topojsonURL = self ? self.getAttribute("data-topojson") : "/assets/topojson/";
  var plotlyURL = self ? self.getAttribute("data-plotly") : "/vendor/plotly.min.js";
  var plotlyFullURL = self ? self.getAttribute("data-plotly-full") : "/vendor/plotly-full.min.js";
  var bundled = (self ? self.getAttribute("data-plotly-traces") || "" : "").split(" ");
  var plotlyLoading = null;

  /* Chart settings for every figure: no cloud sharing, no "edit in Chart Studio" link, no logo; the
     toolbar stands vertically at the right so that it never covers a (left-aligned) title. */
  var CONFIG = { responsive: true, displaylogo: false, showSendToCloud: false, showLink: false,
                 showEditInChartStudio: false, modeBarButtonsToRemove: ["sendDataToCloud"] };

  /* Plotly is loaded after the page's load event, and only on pages with charts: the text, tables and
     forms are usable at once. The partial bundle (0.5 MB gzipped) holds the trace types the dashboard
     draws; a figure of another type loads the full bundle instead. */
  function loadPlotly(full) {
    if (window.Plotly) { return Promise.resolve(window.Plotly); }
    if (!plotlyLoading) {
      plotlyLoading = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = full ? plotlyFullURL : plotlyURL;
        s.onload = function () { resolve(window.Plotly); };
        s.onerror = function () { reject(new Error("could not load " + s.src)); };
        document.head.appendChild(s);
      });
    }
    return plotlyLoading;
  }

  function drawCharts(root) {
    var specs = (root || document).querySelectorAll('script[type="application/json"][data-chart]');
    if (!specs.length) { return Promise.resolve([]); }
    var full = false;
    specs.forEach(function (spec) {
      JSON.parse(spec.textContent).data.forEach(function (t) {
        if (bundled.indexOf(t.type || "scatter") < 0) { full = true; }
      });
    });
    return loadPlotly(full).then(function () { return plotAll(specs); });
  }

  function plotAll(specs) {
    var pending = [];
    specs.forEach(function (spec) {
      var div = document.getElementById(spec.getAttribute("data-chart"));
      if (!div || div.getAttribute("data-rendered")) { return; }
      var fig = JSON.parse(spec.textContent);
      var config = Object.assign({ topojsonURL: topojsonURL }, CONFIG);
      fig.layout.modebar = Object.assign({ orientation: "v" }, fig.layout.modebar || {});
      pending.push(window.Plotly.newPlot(div, fig.data, fig.layout, config).then(function () {
        /* the toolbar's buttons stay mouse-only: keyboard users have the CSV link under each chart */
        div.querySelectorAll(".modebar-btn").forEach(function (a) { a.setAttribute("tabindex", "-1"); });
        div.setAttribute("data-rendered", "1");
      }));
    });
    return Promise.all(pending);
  }

  function sortTable(button) {
    var th = button.closest("th");
    var table = th.closest("table");
    var col = parseInt(button.getAttribute("data-col"), 10);
    var numeric = button.getAttribute("data-numeric") === "1";
    var asc = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach(function (h) { h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col].getAttribute("data-sort"), y = b.cells[col].getAttribute("data-sort");
      if (x === "" && y === "") { return 0; }
      if (x === "") { return 1; }          /* gaps always last */
      if (y === "") { return -1; }
      var c = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest ? ev.target.closest("table.sortable th button") : null;
    if (b) { sortTable(b); }
  });

  /* A running job: poll its status, move the progress bar, reload the page when it has finished. */
  function followJob(box) {
    var url = box.getAttribute("data-status-url");
    var bar = document.getElementById("job-bar");
    var msg = document.getElementById("job-message");
    function tick() {
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (s) {
        if (bar && typeof s.progress === "number") { bar.value = s.progress; }
        if (msg) { msg.textContent = s.message || s.status; }
        if (s.status === "queued" || s.status === "running") { setTimeout(tick, 400); }
        else { window.location.reload(); }
      });
    }
    tick();
  }

  /* Scenario lab: the stage and exporter lists follow the material (valid choices only). */
  function linkChoices() {
    var data = document.getElementById("sc-choices");
    var material = document.getElementById("sc-material");
    var stage = document.getElementById("sc-stage");
    var exporter = document.getElementById("sc-exporter");
    if (!data || !material || !stage || !exporter) { return; }
    var choices = JSON.parse(data.textContent);
    function fill(select, values, keep) {
      select.innerHTML = "";
      values.forEach(function (v) {
        var o = document.createElement("option");
        o.value = v; o.textContent = v; if (v === keep) { o.selected = true; }
        select.appendChild(o);
      });
    }
    function onStage() { fill(exporter, choices[material.value][stage.value] || [], exporter.value); }
    function onMaterial() { fill(stage, Object.keys(choices[material.value] || {}), stage.value); onStage(); }
    material.addEventListener("change", onMaterial);
    stage.addEventListener("change", onStage);
  }

  /* Overview: the stage list follows the map material (its stages with data). */
  function linkOverview() {
    var material = document.getElementById("ov-material");
    var stage = document.getElementById("ov-stage");
    if (!material || !stage) { return; }
    material.addEventListener("change", function () {
      var opt = material.options[material.selectedIndex];
      var keep = stage.value;
      stage.innerHTML = "";
      (opt.getAttribute("data-stages") || "").split(" ").forEach(function (v) {
        var o = document.createElement("option");
        o.value = v; o.textContent = v; if (v === keep) { o.selected = true; }
        stage.appendChild(o);
      });
    });
  }

  /* Scenario lab: the ticked runs go to the comparison page as one job=<id>,<id> parameter. */
  function linkCompare() {
    var form = document.getElementById("compare-form");
    if (!form) { return; }
    form.addEventListener("submit", function () {
      var ids = Array.prototype.map.call(form.querySelectorAll(".compare-pick:checked"), function (c) { return c.value; });
      document.getElementById("compare-jobs").value = ids.join(",");
    });
  }

  window.critmin = { drawCharts: drawCharts };
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("job-progress");
    if (box) { followJob(box); }
    linkChoices();
    linkOverview();
    linkCompare();
  });
  window.addEventListener("load", function () {
    drawCharts(document).then(function () {
      document.body.setAttribute("data-charts-drawn-ms", String(Math.round(performance.now())));
    });
  });
})();
