/* shieldwall editor: open an example, a file or a run's scenario or campaign; check it as you type
 * (POST /api/validate) and show each problem and warning next to its line; download it, revert it;
 * start a run (a raid or a campaign) and follow or cancel it. */
(function () {
  "use strict";
  var text = document.getElementById("scenario-text");
  var gutter = document.getElementById("gutter");
  var list = document.getElementById("problems");
  var okBox = document.getElementById("no-problems");
  var status = document.getElementById("status");
  var source = document.getElementById("source");
  var runButton = document.getElementById("run");
  var runStatus = document.getElementById("run-status");
  var progress = document.getElementById("progress");
  var fileName = "scenario.yaml";
  // every request that changes something carries the page's session token (the server refuses
  // it otherwise): a page from another site cannot read it, so it cannot start runs here
  var tokenMeta = document.querySelector('meta[name="shieldwall-token"]');
  var token = tokenMeta ? tokenMeta.getAttribute("content") : "";
  var cancelButton = document.getElementById("cancel");
  var current = null;
  function post(url, body, json) {
    var headers = {"X-Shieldwall-Token": token};
    if (json) headers["Content-Type"] = "application/json";
    return fetch(url, {method: "POST", headers: headers, body: body, credentials: "same-origin"});
  }
  var badLines = {};
  var timer = null, checked = null, opened = null, kind = null;
  var reps = document.getElementById("replications");
  var revertButton = document.getElementById("revert");

  function detail(body, fallback) {
    if (body && typeof body.detail === "string") return body.detail;
    return fallback;
  }

  function drawGutter() {
    var n = text.value.split("\n").length, out = [];
    for (var i = 1; i <= n; i++) {
      out.push(badLines[i] ? '<span class="sw-bad-line" title="' + badLines[i].replace(/"/g, "&quot;") + '">' + i + "</span>" : String(i));
    }
    gutter.innerHTML = out.join("\n");
    gutter.scrollTop = text.scrollTop;
  }

  function goTo(line, column) {
    var lines = text.value.split("\n"), pos = 0;
    for (var i = 0; i < Math.min(line - 1, lines.length); i++) pos += lines[i].length + 1;
    pos += Math.max(0, (column || 1) - 1);
    text.focus();
    text.setSelectionRange(pos, pos);
    var lineHeight = parseFloat(getComputedStyle(text).lineHeight) || 19;
    text.scrollTop = Math.max(0, (line - 5) * lineHeight);
  }

  function showProblems(problems, warnings) {
    list.innerHTML = "";
    badLines = {};
    problems.map(function (p) { return [p, "sw-problem"]; })
      .concat((warnings || []).map(function (p) { return [p, "sw-problem sw-warning"]; }))
      .forEach(function (pair) {
      var p = pair[0], li = document.createElement("li");
      li.className = pair[1];
      var where = (p.line ? "line " + p.line + (p.column ? ", column " + p.column : "") : "") + (p.path ? "  " + p.path : "");
      var parts = ['<div class="sw-where"></div>', '<div class="sw-message"></div>'];
      li.innerHTML = parts.join("");
      li.querySelector(".sw-where").textContent = where;
      var msg = p.message;
      if (p.expected) msg += " (expected: " + p.expected + ")";
      if (p.found) msg += " (found: " + p.found + ")";
      if (p.hint) msg += " - " + p.hint;
      li.querySelector(".sw-message").textContent = msg;
      if (pair[1] !== "sw-problem") li.querySelector(".sw-where").textContent = "warning " + where;
      if (p.line) {
        li.dataset.line = p.line;
        if (pair[1] === "sw-problem") badLines[p.line] = (badLines[p.line] ? badLines[p.line] + "; " : "") + p.message;
        li.addEventListener("click", function () { goTo(p.line, p.column); });
      }
      list.appendChild(li);
    });
    okBox.hidden = problems.length > 0 || !text.value.trim();
    drawGutter();
  }

  function validate() {
    var body = text.value;
    if (!body.trim()) { showProblems([]); status.textContent = "Empty."; return Promise.resolve(false); }
    status.textContent = "Checking...";
    return post("/api/validate", JSON.stringify({text: body, file: fileName}), true)
      .then(function (r) { return r.json().then(function (j) { return [r, j]; }); })
      .then(function (rj) {
        var r = rj[0], j = rj[1];
        if (!r.ok) { showProblems([{message: detail(j, "the server refused it (" + r.status + ")")}]);
                     status.textContent = "Not checked."; return false; }
        checked = body;
        showProblems(j.problems, j.warnings);
        kind = j.kind;
        reps.placeholder = kind === "campaign" ? "200" : "1,000";
        var warned = (j.warnings || []).length;
        status.textContent = j.ok ? "Checked: " + (kind === "campaign" ? "campaign " : "scenario ") +
          JSON.stringify(j.name) + " is valid" + (warned ? ", with " + warned + " warning" + (warned === 1 ? "" : "s") +
          " (yellow)." : ".") :
          j.problems.length + " problem" + (j.problems.length === 1 ? "" : "s") + " (red line numbers).";
        return j.ok;
      })
      .catch(function (e) { status.textContent = "Could not reach the server: " + e; return false; });
  }

  function load(name, body) {
    fileName = name;
    text.value = body;
    opened = body;
    revertButton.disabled = true;
    source.textContent = name;
    validate();
  }

  document.getElementById("download").addEventListener("click", function () {
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text.value], {type: "text/yaml"}));
    link.download = fileName.replace(/\.json$/, ".yaml") || "scenario.yaml";
    document.body.appendChild(link);
    link.click();
    setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
  });
  revertButton.addEventListener("click", function () {
    if (opened === null) return;
    text.value = opened;
    revertButton.disabled = true;
    drawGutter();
    validate();
  });

  text.addEventListener("input", function () {
    revertButton.disabled = opened === null || text.value === opened;
    drawGutter();
    clearTimeout(timer);
    timer = setTimeout(validate, 400);
  });
  text.addEventListener("scroll", function () { gutter.scrollTop = text.scrollTop; });

  var select = document.getElementById("example");
  fetch("/api/examples").then(function (r) { return r.json(); }).then(function (names) {
    names.forEach(function (n) {
      var o = document.createElement("option");
      o.value = n; o.textContent = n; select.appendChild(o);
    });
  });
  function openExample(name) {
    fetch("/api/examples/" + encodeURIComponent(name))
      .then(function (r) { return r.json().then(function (j) { return [r, j]; }); })
      .then(function (rj) {
        if (rj[0].ok) load(rj[1].name, rj[1].text);
        else status.textContent = detail(rj[1], "could not open " + name);
      });
  }
  select.addEventListener("change", function () { if (select.value) openExample(select.value); });

  document.getElementById("upload").addEventListener("change", function (e) {
    var file = e.target.files[0];
    if (!file) return;
    var form = new FormData();
    form.append("file", file);
    post("/api/upload", form, false)
      .then(function (r) { return r.json().then(function (j) { return [r, j]; }); })
      .then(function (rj) {
        if (!rj[0].ok) { showProblems([{message: detail(rj[1], "upload refused")}]); return; }
        load(rj[1].name, rj[1].text);
      });
  });

  function follow(job) {
    current = job;
    cancelButton.hidden = !(job.state === "running" || job.state === "queued");
    progress.hidden = false;
    progress.max = job.total;
    progress.value = job.done;
    runStatus.className = "";
    runStatus.textContent = job.state + ": " + job.done + " of " + job.total +
      (job.kind === "campaign" ? " replication-nights" : " replications") + " (" + job.elapsed_s + " s)";
    if (job.state === "done") {
      runButton.disabled = false;
      runStatus.className = "sw-ok";
      runStatus.innerHTML = 'Finished in ' + job.elapsed_s + ' s. <a class="sw-report-link" href="' + job.report_url +
        '">Open the report</a> of run <code></code>';
      runStatus.querySelector("code").textContent = job.run;
      return;
    }
    if (job.state !== "running" && job.state !== "queued") {
      runButton.disabled = false;
      runStatus.className = "sw-error";
      runStatus.textContent = "Run " + job.state + ": " + (job.error || "");
      return;
    }
    setTimeout(function () {
      fetch("/api/jobs/" + job.id).then(function (r) { return r.json(); }).then(follow);
    }, 300);
  }

  runButton.addEventListener("click", function () {
    var seedText = document.getElementById("seed").value;
    var payload = {text: text.value, file: fileName};
    if (reps.value !== "") payload.replications = Number(reps.value);
    if (seedText !== "") payload.seed = Number(seedText);
    runButton.disabled = true;
    runStatus.className = "";
    runStatus.textContent = "Starting...";
    post("/api/runs", JSON.stringify(payload), true)
      .then(function (r) { return r.json().then(function (j) { return [r, j]; }); })
      .then(function (rj) {
        var r = rj[0], j = rj[1];
        if (!r.ok) {
          runButton.disabled = false;
          runStatus.className = "sw-error";
          runStatus.textContent = detail(j, "refused (" + r.status + ")");
          if (j.problems) showProblems(j.problems);
          return;
        }
        follow(j);
      })
      .catch(function (e) { runButton.disabled = false; runStatus.textContent = "Could not reach the server: " + e; });
  });

  cancelButton.addEventListener("click", function () {
    if (!current) return;
    cancelButton.disabled = true;
    post("/api/jobs/" + encodeURIComponent(current.id) + "/cancel", "", false)
      .then(function () { cancelButton.disabled = false; });
  });

  var params = new URLSearchParams(location.search);
  if (params.get("run")) {
    fetch("/api/runs/" + encodeURIComponent(params.get("run")) + "/scenario")
      .then(function (r) { return r.json().then(function (j) { return [r, j]; }); })
      .then(function (rj) {
        if (rj[0].ok) load(rj[1].name, rj[1].text);
        else status.textContent = detail(rj[1], "could not open that run's scenario");
      });
  } else if (params.get("example")) {
    openExample(params.get("example"));
  } else if (params.get("from") === "laydown" && sessionStorage.getItem("shieldwall-laydown-to-editor")) {
    var handed = JSON.parse(sessionStorage.getItem("shieldwall-laydown-to-editor"));
    load(handed.name, handed.text);  // the laydown page's moved scenario (laydown.js)
  }
  document.getElementById("to-laydown").addEventListener("click", function () {
    sessionStorage.setItem("shieldwall-editor-to-laydown", JSON.stringify({name: fileName || "scenario.yaml",
                                                                           text: text.value}));
    location.href = "/laydown?from=editor";
  });
  drawGutter();
})();
