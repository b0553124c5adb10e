// The back office's case view shortcuts (issue 15): "a" puts the focus on
// Approve (Enter then submits its form), "r" on the rejection reason, "n"
// opens the next case of the queue. Ignored while typing in a field or with
// a modifier key; without this script every form works as before.
(function () {
  'use strict';
  function focus(css) {
    var el = document.querySelector(css);
    if (!el) return false;
    el.focus();
    if (el.scrollIntoView) el.scrollIntoView({ block: 'center' });
    return true;
  }
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName))) return;
    if (e.key === 'a') {
      if (focus('button[data-action=approve]')) e.preventDefault();
    } else if (e.key === 'r') {
      if (focus('select[name=rejection_reason]')) e.preventDefault();
    } else if (e.key === 'n') {
      var next = document.getElementById('next-case');
      if (next) {
        e.preventDefault();
        window.location.assign(next.href);
      }
    }
  });
})();
