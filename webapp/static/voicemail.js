// Anrufbeantworter: where keyboard focus goes after an htmx swap replaced the element that had it.
// htmx itself keeps focus on an element whose id is in the new content (the search field, a row's
// "mark" button); otherwise focus would fall back to the page start. In order of preference it
// goes to the first field with an error, the undo button after a delete, the row brought back by
// undo, the "Activate" button of a new greeting preview, or the heading of the swapped region.
(function () {
  var REGIONS = "tr[id^='vm-msg-'], .vm-greeting, #vm-messages, #vm-settings, #vm-pin";
  var regionId = null, restoredId = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var region = elt.closest && elt.closest(REGIONS);
    if (!region) { regionId = null; return; }
    regionId = region.id;
    var undo = elt.closest(".vm-undo");
    restoredId = undo ? (undo.querySelector('input[name="ids"]').value.split(",")[0] || null) : null;
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (!regionId) return;
    var active = document.activeElement;
    var id = regionId;
    regionId = null;
    if (active && active !== document.body && document.contains(active)) return;
    // A removed row (deleted) hands over to the list it was in.
    var region = document.getElementById(id) || document.getElementById("vm-messages");
    if (!region) return;
    var target = region.querySelector('[aria-invalid="true"]')
      || region.querySelector(".vm-undo button")
      || (restoredId && document.getElementById("vm-toggle-" + restoredId))
      || region.querySelector(".vm-draft button[type='submit']");
    if (!target) {
      target = region.querySelector("h2");
      if (target) target.setAttribute("tabindex", "-1");
    }
    if (target) target.focus();
  });
})();

// "Select all" for the bulk actions on the message list; everything else works without JavaScript.
document.addEventListener("change", function (event) {
  if (!event.target.matches("[data-vm-select-all]")) return;
  document.querySelectorAll('input[name="ids"][form="vm-bulk"]').forEach(function (box) {
    box.checked = event.target.checked;
  });
});

// Greetings: a file over the limit is refused before uploading it (the server refuses it anyway),
// and a greeting recorded with MediaRecorder is submitted like an uploaded file. The texts come from
// #vm-texts in the page, in the page's language.
(function () {
  var LIMIT = 10 * 1024 * 1024;
  function text(name) {
    var box = document.getElementById("vm-texts");
    return box ? box.dataset[name] || "" : "";
  }
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches('.vm-greeting input[type="file"][id]')) return;
    var help = document.getElementById(input.id + "-help");
    var tooBig = input.files.length && input.files[0].size > LIMIT;
    input.setAttribute("aria-invalid", tooBig ? "true" : "false");
    input.form.querySelector('button[type="submit"]').disabled = !!tooBig;
    if (help) {
      help.setAttribute("role", tooBig ? "alert" : "");
      help.textContent = tooBig ? text("tooBig") : text("fileHelp");
    }
  });

  var recorder = null, chunks = [];
  function formOf(el) { return el.closest("form[data-vm-recorder]"); }
  function status(form, value) { form.querySelector("[data-vm-record-status]").textContent = value; }
  document.addEventListener("click", function (event) {
    var start = event.target.closest("[data-vm-record-start]");
    var stop = event.target.closest("[data-vm-record-stop]");
    if (start) {
      var form = formOf(start);
      if (!navigator.mediaDevices || !window.MediaRecorder) { status(form, text("noRecorder")); return; }
      navigator.mediaDevices.getUserMedia({audio: true}).then(function (stream) {
        chunks = [];
        recorder = new MediaRecorder(stream);
        recorder.ondataavailable = function (e) { if (e.data.size) chunks.push(e.data); };
        recorder.onstop = function () {
          stream.getTracks().forEach(function (t) { t.stop(); });
          var type = recorder.mimeType || "audio/webm";
          var file = new File(chunks, "aufnahme." + (type.indexOf("ogg") >= 0 ? "ogg" : "webm"), {type: type});
          var transfer = new DataTransfer();
          transfer.items.add(file);
          form.querySelector("[data-vm-recording]").files = transfer.files;
          form.querySelector("[data-vm-record-submit]").disabled = false;
          status(form, text("recorded"));
        };
        recorder.start();
        form.dataset.recordingSince = String(Date.now());
        start.disabled = true;
        form.querySelector("[data-vm-record-stop]").disabled = false;
        status(form, text("recording"));
      }).catch(function () { status(form, text("noMicrophone")); });
    }
    if (stop && recorder) {
      var f = formOf(stop);
      recorder.stop();
      stop.disabled = true;
      f.querySelector("[data-vm-record-start]").disabled = false;
    }
  });
})();
