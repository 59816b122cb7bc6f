/* shieldwall charts: draw the Chart.js configurations that shieldwall.report.charts builds.
 *
 * ShieldwallCharts.mount(root, charts) finds every <figure data-chart="NAME"> under root and draws
 * charts[NAME] (one configuration, or a list of them: one canvas each) with the vendored Chart.js.
 * The configurations hold every number; this file only sets what JSON cannot say (no animation,
 * the band edges left out of legends and tooltips). Used by the HTML report and the web app. */
(function (global) {
  "use strict";

  function isBandEdge(dataset) { return dataset && dataset.sw_band; }

  function draw(figure, config) {
    var box = document.createElement("div");
    box.className = "sw-chart-box";
    box.style.height = (config.height || 280) + "px";
    var canvas = document.createElement("canvas");
    box.appendChild(canvas);
    figure.appendChild(box);
    var options = config.options || {};
    options.animation = false;
    options.responsive = true;
    options.maintainAspectRatio = false;
    options.plugins = options.plugins || {};
    options.plugins.legend = options.plugins.legend || {};
    options.plugins.legend.labels = {filter: function (item, data) { return !isBandEdge(data.datasets[item.datasetIndex]); }};
    options.plugins.tooltip = {filter: function (item) { return !isBandEdge(item.dataset); }};
    var chart = new global.Chart(canvas, {type: config.type, data: config.data, options: options});
    canvas.shieldwallChart = chart;
    return chart;
  }

  function mount(root, charts) {
    var drawn = [];
    Array.prototype.forEach.call(root.querySelectorAll("figure[data-chart]"), function (figure) {
      var config = charts[figure.getAttribute("data-chart")];
      if (!config) return;
      (Array.isArray(config) ? config : [config]).forEach(function (c) { drawn.push(draw(figure, c)); });
      figure.setAttribute("data-drawn", String(drawn.length));
    });
    return drawn;
  }

  global.ShieldwallCharts = {mount: mount};
})(window);
