// The live dashboard (templates/web/dashboard.html): polls the web tier for each box's
// state and each arrow's traffic twice a second (the edge answers from its one-second
// cache in between, so this costs nothing more upstream and shows a change sooner),
// and for the charts every five seconds.
// All the logic of what a state means lives on the server (web/dashboard.py): this
// only draws what it is given.
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root) return;
  var DATA_EVERY = 500;
  var CHARTS_EVERY = 5000;
  var ICONS = {
    "up": "●", "down": "✕", "frozen": "❄", "draining": "◐", "maintenance": "⊘", "lagging": "⚠",
    "late": "⚠", "off": "○", "no data": "?"
  };
  var updated = root.querySelector("[data-testid=dashboard-updated]");
  var notices = root.querySelector("[data-testid=dashboard-notices]");

  function setLines(textElement, lines) {
    // One <tspan> per line, under the box's title and state.
    while (textElement.firstChild) textElement.removeChild(textElement.firstChild);
    var x = textElement.getAttribute("x");
    lines.forEach(function (line, i) {
      var span = document.createElementNS("http://www.w3.org/2000/svg", "tspan");
      span.setAttribute("x", x);
      span.setAttribute("dy", i === 0 ? "0" : "1.2em");
      span.textContent = line;
      textElement.appendChild(span);
    });
  }

  function showNotices(messages) {
    notices.textContent = "";
    messages.forEach(function (message) {
      var p = document.createElement("p");
      p.className = "notice";
      p.textContent = message;
      notices.appendChild(p);
    });
  }

  function drawBoxes(boxes) {
    root.querySelectorAll("[data-box]").forEach(function (g) {
      var box = boxes[g.dataset.box] || {state: "no data", lines: [], note: ""};
      g.setAttribute("class", "box kind-" + g.dataset.kind +
        " state-" + box.state.replace(" ", "") + (box.latest ? " latest" : ""));
      g.dataset.state = box.state;
      g.querySelector(".state").textContent = ICONS[box.state] + " " + box.state + (box.latest ? "  ★" : "");
      // Why, when the state needs a reason, on the first line.
      setLines(g.querySelector(".lines"), (box.note ? [box.note] : []).concat(box.lines || []));
    });
  }

  var SILENT = {"down": true, "frozen": true, "off": true, "no data": true};

  function drawArrows(arrows, boxes) {
    root.querySelectorAll("[data-arrow]").forEach(function (g) {
      var arrow = arrows[g.dataset.arrow];
      var source = boxes[g.dataset.from];
      // Nothing leaves a box that is down, whatever the total along its edge says.
      if (source && SILENT[source.state]) arrow = {rate: 0, label: ""};
      var rate = arrow ? arrow.rate : null;
      var line = g.querySelector("line");
      // Wider with more traffic (a doubling adds a pixel); dashed when there is none.
      var width = rate ? 1.5 + Math.min(7, Math.log2(1 + rate)) : 1.2;
      line.setAttribute("stroke-width", width.toFixed(1));
      g.classList.toggle("idle", !rate);
      g.classList.toggle("unknown", rate === null || rate === undefined);
      var text = g.querySelector(".rate");
      if (text) text.textContent = arrow ? arrow.label : "";
    });
  }

  function drawJobs(cron) {
    var body = root.querySelector("[data-testid=cron-jobs]");
    var jobs = (cron && cron.jobs) || [];
    body.textContent = "";
    if (!jobs.length) {
      body.innerHTML = "<tr><td colspan=\"3\">No run recorded yet.</td></tr>";
      return;
    }
    jobs.forEach(function (job) {
      var row = document.createElement("tr");
      [job.task, new Date(job.slot * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC (" + job.ago + ")", job.by]
        .forEach(function (value) {
          var cell = document.createElement("td");
          cell.textContent = value;
          row.appendChild(cell);
        });
      body.appendChild(row);
    });
  }

  function pollData() {
    fetch(root.dataset.dataUrl, {headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok) throw new Error("the site answered " + response.status);
        return response.json();
      })
      .then(function (data) {
        var messages = [];
        if (data.prometheus) messages.push(data.prometheus + ": no live data. Is the prometheus container up? (make ps)");
        (data.missing || []).forEach(function (m) { messages.push("No data from " + m); });
        showNotices(messages);
        drawBoxes(data.boxes || {});
        drawArrows(data.arrows || {}, data.boxes || {});
        drawJobs((data.boxes || {}).cron);
        updated.textContent = "Updated " + new Date(data.generated_at * 1000).toLocaleTimeString() + ".";
      })
      .catch(function (error) {
        updated.textContent = "No answer from the site (" + error.message + "); trying again.";
      })
      .then(function () { setTimeout(pollData, DATA_EVERY); });
  }

  // --- charts (uPlot) -----------------------------------------------------------
  var PALETTE = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037", "#455a64"];
  var plots = {};

  function chartOptions(name, chart, width) {
    var series = [{}];
    chart.series.forEach(function (s, i) {
      series.push({label: s.label, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: false});
    });
    return {
      title: chart.title + " (" + chart.unit + ")",
      width: width,
      height: 170,
      series: series,
      axes: [{}, {size: 50}],
      scales: {y: {range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; }}},
      legend: {live: false}
    };
  }

  function drawCharts(result) {
    var holder = root.querySelector("[data-testid=charts]");
    if (result.prometheus) {
      holder.textContent = result.prometheus + ": no charts.";
      plots = {};
      return;
    }
    Object.keys(result.charts).forEach(function (name) {
      var chart = result.charts[name];
      var data = [result.times].concat(chart.series.map(function (s) { return s.values; }));
      var labels = chart.series.map(function (s) { return s.label; }).join("|");
      var known = plots[name];
      if (known && known.labels === labels) {
        known.plot.setData(data);
        return;
      }
      var element = holder.querySelector("[data-chart=" + name + "]");
      if (!element) {
        element = document.createElement("figure");
        element.className = "chart";
        element.dataset.chart = name;
        holder.appendChild(element);
      }
      element.textContent = "";
      var width = Math.max(240, element.clientWidth - 10);
      if (!chart.series.length) {
        element.textContent = chart.title + ": no data yet.";
        delete plots[name];
        return;
      }
      plots[name] = {labels: labels, plot: new uPlot(chartOptions(name, chart, width), data, element)};
    });
  }

  function pollCharts() {
    fetch(root.dataset.chartsUrl, {headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok) throw new Error("the site answered " + response.status);
        return response.json();
      })
      .then(function (result) { if (window.uPlot) drawCharts(result); })
      .catch(function () { /* the next poll tries again; pollData reports the site's state */ })
      .then(function () { setTimeout(pollCharts, CHARTS_EVERY); });
  }

  pollData();
  pollCharts();
})();
