// selftest.js - index.html's charts are inline SVG: count those the browser drew, and with
// #selftest click the first legend entry of each chart and check that gnuplot's script hid
// its series (the answer goes into #charts-status for the tests).
window.addEventListener('load', function () {
  var status = document.getElementById('charts-status');
  var svgs = document.querySelectorAll('figure.chart svg');
  var drawn = 0, interactive = 0, toggled = 0;
  for (var i = 0; i < svgs.length; i++) {
    var box = svgs[i].getBoundingClientRect();
    if (box.width > 100 && box.height > 50 && svgs[i].querySelector('g')) drawn++;
    if (svgs[i].gnuplot) interactive++;
    if (location.hash === '#selftest') {
      var key = svgs[i].querySelector('g[id$="_keyentry"]');
      if (!key) continue;
      var plot = svgs[i].getElementById(key.id.replace('_keyentry', ''));
      key.dispatchEvent(new MouseEvent('click', { bubbles: true }));
      if (plot && plot.getAttribute('visibility') === 'hidden') toggled++;
      key.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    }
  }
  status.setAttribute('data-drawn', drawn);
  status.setAttribute('data-interactive', interactive);
  status.setAttribute('data-toggled', toggled);
  status.setAttribute('data-keyed', document.querySelectorAll(
    'figure.chart svg g[id$="_keyentry"]').length ? 'yes' : 'no');
});
