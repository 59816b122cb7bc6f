/* The web app's replay page: fetch the run's replay data and the outline, mount the replay.
 * A file of its own (not an inline script) so that the app's pages run under a CSP that allows
 * no inline script. The run's name comes from the element's data-run attribute. */
(function () {
  "use strict";
  var root = document.getElementById("replay");
  var run = root.getAttribute("data-run");
  Promise.all([fetch("/api/runs/" + encodeURIComponent(run) + "/replay"),
               fetch("/static/vendor/natural-earth/europe-50m.geojson")])
    .then(function (answers) {
      var d = answers[0], o = answers[1];
      if (!d.ok) return d.json().then(function (j) { throw new Error(j.detail); });
      return Promise.all([d.json(), o.json()]).then(function (both) {
        ShieldwallReplay.mount(root, both[0], both[1]);
      });
    })
    .catch(function (e) {
      var p = document.getElementById("replay-error");
      p.hidden = false;
      p.textContent = String(e.message || e);
    });
})();
