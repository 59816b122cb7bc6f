/* shieldwall compare page: start a comparison of two runs (POST /api/compare: both run again on
 * common random numbers, as `shieldwall compare` does), follow it, and open its result. A refusal
 * (two different scenarios, a raid against a campaign) is shown as the server words it. */
(function () {
  "use strict";
  var form = document.getElementById("compare-form");
  if (!form) return;
  var status = document.getElementById("compare-status");
  var bar = document.getElementById("compare-progress");
  var button = document.getElementById("compare-run");
  var tokenMeta = document.querySelector('meta[name="shieldwall-token"]');
  var token = tokenMeta ? tokenMeta.getAttribute("content") : "";

  function say(text, cls) { status.className = cls || ""; status.textContent = text; }

  function follow(job) {
    bar.hidden = false;
    bar.max = job.total || 1;
    bar.value = job.done || 0;
    if (job.state === "done") { say("Done: opening the comparison.", "sw-ok"); location.href = job.report_url; return; }
    if (job.state !== "running" && job.state !== "queued") {
      button.disabled = false;
      say("Comparison " + job.state + ": " + (job.error || ""), "sw-error");
      return;
    }
    say("Running A and B on common random numbers: " + job.done + " of " + job.total + " (" + job.elapsed_s + " s)");
    setTimeout(function () {
      fetch("/api/jobs/" + encodeURIComponent(job.id)).then(function (r) { return r.json(); }).then(follow);
    }, 300);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = {a: document.getElementById("compare-a").value, b: document.getElementById("compare-b").value};
    var reps = document.getElementById("compare-replications").value;
    var seed = document.getElementById("compare-seed").value;
    if (reps !== "") body.replications = Number(reps);
    if (seed !== "") body.seed = Number(seed);
    button.disabled = true;
    say("Starting...");
    fetch("/api/compare", {method: "POST", credentials: "same-origin", body: JSON.stringify(body),
                           headers: {"Content-Type": "application/json", "X-Shieldwall-Token": token}})
      .then(function (r) { return r.json().then(function (j) { return [r, j]; }); })
      .then(function (rj) {
        if (!rj[0].ok) {
          button.disabled = false;
          say(typeof rj[1].detail === "string" ? rj[1].detail : "refused (" + rj[0].status + ")", "sw-error");
          return;
        }
        follow(rj[1]);
      })
      .catch(function (err) { button.disabled = false; say("Could not reach the server: " + err, "sw-error"); });
  });
})();
