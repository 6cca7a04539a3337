// Draw every chart of the page from its data-figure attribute (no framework, works offline).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
    var fig = JSON.parse(el.dataset.figure);
    Plotly.newPlot(el, fig.data, fig.layout, {responsive: true, displaylogo: false}).then(function () {
      el.setAttribute("data-rendered", "1");
    });
  });
});
