/* Document uploads, as a progressive enhancement (every form works without this file):
   - the native file control is drawn as a button in the page's language, with the chosen
     file's name, a thumbnail of a picture and an early warning for a file over the limit
     (the server still judges every file by its content);
   - a form sending files shows how far the upload has gone, then shows the server's answer
     as if the form had been posted normally. */
(function () {
  'use strict';
  if (!window.FormData || !window.XMLHttpRequest) { return; }
  document.documentElement.classList.add('js-uploads');

  function showChosen(picker) {
    var input = picker.querySelector('input[type=file]');
    var name = picker.querySelector('[data-file-name]');
    var field = picker.parentNode;
    var thumb = field.querySelector('[data-file-thumb]');
    var warning = field.querySelector('[data-file-warning]');
    var file = input.files && input.files[0];
    name.textContent = file ? file.name : picker.getAttribute('data-text-none');
    picker.classList.toggle('file-picker--chosen', !!file);
    var tooBig = !!file && file.size > Number(picker.getAttribute('data-max-bytes'));
    warning.hidden = !tooBig;
    warning.textContent = tooBig ? picker.getAttribute('data-text-too-big') : '';
    thumb.hidden = true;
    thumb.removeAttribute('src');
    if (file && !tooBig && /^image\/(jpeg|png)$/.test(file.type) && window.FileReader) {
      var reader = new FileReader();
      reader.onload = function () { thumb.src = reader.result; thumb.hidden = false; };
      reader.readAsDataURL(file);
    }
  }

  document.querySelectorAll('[data-file-picker]').forEach(function (picker) {
    var input = picker.querySelector('input[type=file]');
    input.addEventListener('change', function () { showChosen(picker); });
    if (input.files && input.files.length) { showChosen(picker); }
  });

  function chosenFiles(form) {
    return Array.prototype.some.call(form.querySelectorAll('input[type=file]'), function (input) {
      return input.files && input.files.length > 0;
    });
  }

  document.querySelectorAll('form').forEach(function (form) {
    var progress = form.querySelector('[data-upload-progress]');
    if (!progress) { return; }
    var bar = progress.querySelector('progress');
    var status = progress.querySelector('[data-upload-status]');
    var sending = false;
    form.addEventListener('submit', function (event) {
      if (event.defaultPrevented || !chosenFiles(form)) { return; }
      event.preventDefault();
      if (sending) { return; }
      sending = true;
      var data = new FormData(form);
      var submitter = event.submitter;
      if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
      var buttons = form.querySelectorAll('button[type=submit]');
      buttons.forEach(function (b) { b.disabled = true; });
      progress.hidden = false;
      bar.value = 0;
      status.textContent = progress.getAttribute('data-text-uploading').replace('{percent}', '0');
      var xhr = new XMLHttpRequest();
      // getAttribute: a field named "action" (the submit buttons) shadows form.action.
      var target = new URL(form.getAttribute('action') || window.location.href, window.location.href);
      xhr.open((form.getAttribute('method') || 'POST').toUpperCase(), target.href);
      xhr.upload.addEventListener('progress', function (e) {
        if (!e.lengthComputable) { return; }
        var percent = Math.round((e.loaded / e.total) * 100);
        bar.value = percent;
        status.textContent = progress.getAttribute('data-text-uploading').replace('{percent}', String(percent));
      });
      xhr.upload.addEventListener('load', function () {
        bar.value = 100;
        status.textContent = progress.getAttribute('data-text-processing');
      });
      function failed() {
        sending = false;
        buttons.forEach(function (b) { b.disabled = false; });
        status.textContent = progress.getAttribute('data-text-failed');
      }
      xhr.addEventListener('error', failed);
      xhr.addEventListener('abort', failed);
      xhr.addEventListener('load', function () {
        // The server answered (after its redirect, if any): show that page, at its address.
        var html = xhr.responseText;
        if (!html) { failed(); return; }
        // Always a (same-document) navigation, even to the same address: reloading then
        // fetches the page instead of posting the files again.
        window.history.replaceState(null, '', xhr.responseURL || window.location.href);
        document.open();
        document.write(html);
        document.close();
      });
      xhr.send(data);
    });
  });
}());
