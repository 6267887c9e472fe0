// slides.js - one slide at a time: arrow keys (and space, Page Up/Down, Home, End) move,
// the URL's #N (or #SECTION) names the slide, the 1280x720 deck is scaled to fit the window. With
// #measure, every slide is shown in turn and the boxes of its title, chart and takeaway are
// written into <pre id=measure>, for the tests: "N slide L T R B WINDOW_W WINDOW_H" in the
// window's pixels, then "N chart L T R B 1280 720 loaded|missing" in the slide's own.
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
  }
  function go(i) {
    show(i);
    history.replaceState(null, '', '#' + (current + 1));
  }
  document.addEventListener('keydown', function (e) {
    if (e.key === 'ArrowRight' || e.key === 'PageDown' || e.key === ' ') go(current + 1);
    else if (e.key === 'ArrowLeft' || e.key === 'PageUp') go(current - 1);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(slides.length - 1);
    else return;
    e.preventDefault();
  });
  // a table too long for its slide, or a takeaway, is set smaller until it fits (down to 14
  // and 18 px)
  function shrink() {
    for (var i = 0; i < slides.length; i++) {
      show(i);
      var table = slides[i].querySelector('.table table');
      var size = 22;
      while (table && size > 14 && table.offsetTop + table.offsetHeight > 620) {
        size -= 1;
        table.style.fontSize = size + 'px';
      }
      var t = slides[i].querySelector('.takeaway');
      size = 26;
      while (t && size > 18 && t.offsetTop + t.offsetHeight > 706) {
        size -= 1;
        t.style.fontSize = size + 'px';
      }
    }
  }
  // #N is the Nth slide; #NAME the slide of the section NAME (#the-cost-of-one-task)
  var asked = parseInt(location.hash.slice(1), 10);
  for (var a = 0; a < slides.length && isNaN(asked); a++)
    if (slides[a].getAttribute('data-section') === location.hash.slice(1)) asked = a + 1;
  window.addEventListener('resize', fit);
  fit();
  shrink();
  function measure() {
    // boxes in slide pixels (the 1280x720 design, whatever the window's scale), and the
    // slide's own box in the window's pixels
    var lines = [];
    for (var i = 0; i < slides.length; i++) {
      show(i);
      var box = slides[i].getBoundingClientRect();
      var scale = box.width / 1280;
      lines.push(i + ' slide ' + [box.left, box.top, box.right, box.bottom].map(Math.round)
                 .join(' ') + ' ' + window.innerWidth + ' ' + window.innerHeight);
      var parts = slides[i].querySelectorAll('h2, .chart img, .table table, .takeaway');
      for (var j = 0; j < parts.length; j++) {
        var r = parts[j].getBoundingClientRect();
        var tag = parts[j].tagName.toLowerCase();
        var what = tag === 'img' ? 'chart' : tag === 'table' ? 'table' :
          tag === 'h2' ? 'title' : 'takeaway';
        var loaded = what !== 'chart' || (parts[j].complete && parts[j].naturalWidth > 0);
        lines.push(i + ' ' + what + ' ' + [(r.left - box.left) / scale,
          (r.top - box.top) / scale, (r.right - box.left) / scale,
          (r.bottom - box.top) / scale].map(Math.round).join(' ') + ' 1280 720 ' +
          (loaded ? 'loaded' : 'missing'));
      }
    }
    document.getElementById('measure').textContent = lines.join('\n');
    show(0);
  }
  if (location.hash === '#measure') {
    window.addEventListener('load', measure);  // once the charts' images are in
  } else {
    show(isNaN(asked) ? 0 : asked - 1);
  }
})();
