// slides.js - one slide at a time: arrow keys (and space, Page Up/Down, Home, End) move,
// the URL's #N names the slide, the 1280x720 deck is scaled to fit the window. With
// #measure, every slide is shown in turn and its chart's box written into <pre id=measure>
// (one line a slide: "N chart LEFT TOP RIGHT BOTTOM VIEWPORT_W VIEWPORT_H"), for the tests.
(function () {
  var slides = document.querySelectorAll('.slide');
  var deck = document.getElementById('deck');
  var current = 0;
  function fit() {
    var s = Math.min(window.innerWidth / 1280, window.innerHeight / 720);
    deck.style.transform = 'scale(' + s + ')';
  }
  function show(i) {
    current = Math.max(0, Math.min(slides.length - 1, i));
    for (var k = 0; k < slides.length; k++)
      slides[k].classList.toggle('current', k === current);
    if (location.hash !== '#measure') history.replaceState(null, '', '#' + (current + 1));
  }
  document.addEventListener('keydown', function (e) {
    if (e.key === 'ArrowRight' || e.key === 'PageDown' || e.key === ' ') show(current + 1);
    else if (e.key === 'ArrowLeft' || e.key === 'PageUp') show(current - 1);
    else if (e.key === 'Home') show(0);
    else if (e.key === 'End') show(slides.length - 1);
    else return;
    e.preventDefault();
  });
  window.addEventListener('resize', fit);
  fit();
  if (location.hash === '#measure') {
    var lines = [];
    for (var i = 0; i < slides.length; i++) {
      show(i);
      var box = slides[i].getBoundingClientRect();
      lines.push(i + ' slide ' + [box.left, box.top, box.right, box.bottom].map(Math.round)
                 .join(' ') + ' ' + window.innerWidth + ' ' + window.innerHeight);
      var parts = slides[i].querySelectorAll('.chart svg, .table table, .takeaway');
      for (var j = 0; j < parts.length; j++) {
        var r = parts[j].getBoundingClientRect();
        var what = parts[j].tagName.toLowerCase() === 'svg' ? 'chart' :
          (parts[j].tagName.toLowerCase() === 'table' ? 'table' : 'takeaway');
        lines.push(i + ' ' + what + ' ' + [r.left, r.top, r.right, r.bottom].map(Math.round)
                   .join(' ') + ' ' + window.innerWidth + ' ' + window.innerHeight);
      }
    }
    document.getElementById('measure').textContent = lines.join('\n');
    show(0);
  } else {
    var n = parseInt(location.hash.slice(1), 10);
    show(isNaN(n) ? 0 : n - 1);
  }
})();
