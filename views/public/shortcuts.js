// Keyboard shortcuts of the application page (issue 16), documented on the page itself.
// Alt+Shift+<letter>, read by the key's position (event.code) so that they work on a Russian
// layout too; never a single key, so that screen readers' own single-letter navigation and
// typing stay untouched. Each shortcut clicks or opens the element marked data-shortcut.
(function () {
  'use strict';
  var keys = { KeyN: 'next', KeyS: 'start', KeyA: 'accept-documents', KeyD: 'decide', KeyQ: 'queue' };

  document.addEventListener('keydown', function (event) {
    if (!event.altKey || !event.shiftKey || event.ctrlKey || event.metaKey || event.repeat) return;
    var action = keys[event.code];
    if (!action) return;
    var target = document.querySelector('[data-shortcut="' + action + '"]');
    if (!target) return;
    event.preventDefault();
    if (target.tagName === 'SUMMARY') {
      var details = target.parentElement;
      if (details && !details.open) details.open = true;
      var first = details && details.querySelector('textarea, input:not([type="hidden"]), select, button[type="submit"]');
      (first || target).focus();
      return;
    }
    target.click();
  });

  // After an htmx form replaces the part of the page it was in, the keyboard's place is kept: the
  // control with the same id if it is still there, else the notice that says what happened, else
  // the heading. Only when the focus was lost with the old content (never for a refresh by polling).
  var focusedId = null;
  document.addEventListener('htmx:beforeSwap', function () {
    var active = document.activeElement;
    focusedId = active && active.id ? active.id : null;
  });
  document.addEventListener('htmx:afterSettle', function (event) {
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return;
    var config = event.detail && event.detail.requestConfig;
    var again = focusedId ? document.getElementById(focusedId) : null;
    if (again && !again.disabled) {
      again.focus();
      return;
    }
    if (config && config.verb === 'get') return;
    var root = document.getElementById('main') || document.body;
    var notice = root.querySelector('.notice[role="alert"], .notice[role="status"]') || root.querySelector('h1');
    if (notice) {
      if (!notice.hasAttribute('tabindex')) notice.setAttribute('tabindex', '-1');
      notice.focus();
    }
  });
})();
