/* Progressive enhancements; every page works without this file. */
(function () {
  'use strict';
  // The stylesheet collapses the phone menu only when this script runs to open it.
  document.documentElement.classList.add('js');
  document.querySelectorAll('[data-menu-toggle]').forEach(function (button) {
    var menu = document.getElementById(button.getAttribute('data-menu-toggle'));
    if (!menu) { return; }
    button.addEventListener('click', function () {
      var open = menu.classList.toggle('show');
      button.setAttribute('aria-expanded', open ? 'true' : 'false');
    });
  });

  // Tables that become stacked cards on a phone: each cell is labelled by its column.
  document.querySelectorAll('table.table-cards').forEach(function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll('thead th'), function (th) { return th.textContent.trim(); });
    table.querySelectorAll('tbody tr').forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (cell.tagName === 'TD' && !cell.hasAttribute('data-label') && heads[i]) { cell.setAttribute('data-label', heads[i]); }
      });
    });
  });

  // Jalali date picker on inputs marked data-jdp.
  if (window.jalaliDatepicker) {
    window.jalaliDatepicker.startWatch({ maxDate: 'attr', minDate: 'attr' });
    // Close the picker when focus moves on, so it never covers the next field.
    document.addEventListener('focusin', function (event) {
      if (!event.target.closest('[data-jdp], jdp-container')) { window.jalaliDatepicker.hide(); }
    });
    // The picker's year and month selects have no labels of their own.
    new MutationObserver(function () {
      document.querySelectorAll('jdp-container .jdp-year select:not([aria-label])').forEach(function (s) { s.setAttribute('aria-label', 'سال'); });
      document.querySelectorAll('jdp-container .jdp-month select:not([aria-label])').forEach(function (s) { s.setAttribute('aria-label', 'ماه'); });
    }).observe(document.body, { childList: true, subtree: true });
  }

  // Narrow a city <select> to the chosen province: every city stays in the HTML,
  // grouped in <optgroup label="province">, so the page works without a script.
  document.querySelectorAll('select[data-province-select]').forEach(function (provinceSelect) {
    var form = provinceSelect.form;
    var citySelect = form && form.querySelector('select[name="' + provinceSelect.getAttribute('data-province-select') + '"]');
    if (!citySelect) { return; }
    function narrow() {
      var chosen = provinceSelect.options[provinceSelect.selectedIndex];
      var label = chosen && chosen.value ? chosen.text : null;
      Array.prototype.forEach.call(citySelect.querySelectorAll('optgroup'), function (group) {
        var show = !label || group.label === label;
        group.hidden = !show;
        group.disabled = !show;
      });
      var selected = citySelect.options[citySelect.selectedIndex];
      if (selected && selected.parentNode.tagName === 'OPTGROUP' && selected.parentNode.disabled) {
        citySelect.value = '';
      }
    }
    provinceSelect.addEventListener('change', narrow);
    narrow();
  });

  // Move focus to the error summary so screen readers announce it.
  var summary = document.getElementById('error-summary');
  if (summary) { summary.focus(); }

  // Buttons that ask before acting (data-confirm="question").
  // data-confirm-requires="field": ask only once that field is filled in; an empty form
  // goes to the server first, which says what is missing (nothing is confirmed in vain).
  document.querySelectorAll('[data-confirm]').forEach(function (el) {
    el.addEventListener('click', function (event) {
      var needs = el.getAttribute('data-confirm-requires');
      var input = needs && el.form && el.form.elements[needs];
      if (input && !input.value.trim()) { return; }
      if (!window.confirm(el.getAttribute('data-confirm'))) { event.preventDefault(); }
    });
  });
}());

/* The certificate's print button (no inline handlers: the CSP forbids them). */
(function () {
  'use strict';
  document.querySelectorAll('[data-print]').forEach(function (button) {
    button.addEventListener('click', function () { window.print(); });
  });
}());

/* Back-office bulk actions: Flask-Admin's inline onclick replaced by data-model-action. */
(function () {
  'use strict';
  document.querySelectorAll('[data-model-action]').forEach(function (link) {
    link.addEventListener('click', function (event) {
      event.preventDefault();
      if (window.modelActions) { window.modelActions.execute(link.getAttribute('data-model-action')); }
    });
  });
}());

/* The reviewer's decision form: only the fields of the chosen decision are shown. */
(function () {
  'use strict';
  var form = document.getElementById('decision-form');
  if (!form) { return; }
  var radios = form.querySelectorAll('input[name="decision"]');
  function update() {
    var chosen = form.querySelector('input[name="decision"]:checked');
    form.querySelectorAll('[data-decision-field]').forEach(function (group) {
      var show = chosen && group.getAttribute('data-decision-field').split(' ').indexOf(chosen.value) !== -1;
      group.hidden = !show;
      group.querySelectorAll('select, input, textarea').forEach(function (el) { el.disabled = !show; });
    });
  }
  radios.forEach(function (radio) { radio.addEventListener('change', update); });
  update();
}());

/* The cartable as a work queue: the whole row opens the review; J/K move between rows. */
(function () {
  'use strict';
  var table = document.querySelector('.cartable-table');
  if (table) {
    table.addEventListener('click', function (event) {
      if (event.target.closest('a, button, input, select, label')) { return; }
      var row = event.target.closest('tr.cartable-row');
      var link = row && row.querySelector('a.review-link');
      if (link) { window.location.href = link.href; }
    });
    document.addEventListener('keydown', function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (event.target.closest('input, select, textarea, [contenteditable]')) { return; }
      var key = event.key.toLowerCase();
      var step = (key === 'j' || key === 'ت') ? 1 : ((key === 'k' || key === 'ن') ? -1 : 0);
      if (!step) { return; }
      var links = Array.prototype.slice.call(table.querySelectorAll('a.review-link'));
      if (!links.length) { return; }
      var at = links.indexOf(document.activeElement);
      var next = at === -1 ? (step > 0 ? 0 : links.length - 1) : Math.min(Math.max(at + step, 0), links.length - 1);
      links[next].focus();
      event.preventDefault();
    });
  }
  var first = document.querySelector('[data-autofocus]');
  if (first && !document.getElementById('error-summary')) { first.focus(); }
}());
