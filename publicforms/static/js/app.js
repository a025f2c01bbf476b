/* Progressive enhancements; every page works without this file. */
(function () {
  'use strict';

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

  // Show the municipal-district <select> only for a city split between universities
  // (data-split-cities: the ids of those cities); without a script it is always there,
  // required for those cities and empty for the others.
  document.querySelectorAll('select[data-split-cities]').forEach(function (districtSelect) {
    var form = districtSelect.form;
    var citySelect = form && form.querySelector('select[name="' + districtSelect.getAttribute('data-city-select') + '"]');
    if (!citySelect) { return; }
    var split = districtSelect.getAttribute('data-split-cities').split(' ');
    var group = districtSelect.closest('.form-group') || districtSelect.parentNode;
    function follow() {
      var isSplit = split.indexOf(citySelect.value) !== -1;
      group.hidden = !isSplit;
      districtSelect.disabled = !isSplit;
      districtSelect.required = isSplit;
      if (!isSplit) { districtSelect.value = ''; }
    }
    citySelect.addEventListener('change', follow);
    follow();
  });

  // Move focus to the error summary so screen readers announce it.
  var summary = document.getElementById('error-summary');
  if (summary) { summary.focus(); }

  // Buttons that ask before acting (data-confirm="question").
  document.querySelectorAll('[data-confirm]').forEach(function (el) {
    el.addEventListener('click', function (event) {
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
