/* Draws the dashboard chart from the numbers the page also shows as a table. */
(function () {
  'use strict';
  var canvas = document.getElementById('decisions-chart');
  if (!canvas || !window.Chart) { return; }
  var data = JSON.parse(canvas.getAttribute('data-chart'));
  window.Chart.defaults.font.family = '"Vazirmatn FD", Vazirmatn, Tahoma, sans-serif';
  new window.Chart(canvas, {
    type: 'bar',
    data: { labels: data.labels, datasets: [{ label: canvas.getAttribute('aria-label'), data: data.values, backgroundColor: '#1d5fa8' }] },
    options: { responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } },
               scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
}());
