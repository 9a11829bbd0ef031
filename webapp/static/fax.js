// Fax: upload progress and a file over 20 MB refused before uploading (the server refuses it too);
// "select all" for the bulk actions. Everything works without JavaScript as well.
(function () {
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.detail.elt;
    if (!form || form.id !== "fax-upload") return;
    var bar = document.getElementById("fax-upload-progress");
    if (!bar || !event.detail.lengthComputable) return;
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  });

  document.addEventListener("htmx:confirm", function (event) {
    var form = event.detail.elt;
    if (!form || form.id !== "fax-upload") return;
    var input = form.querySelector("input[type=file]");
    var max = parseInt(form.getAttribute("data-max-bytes"), 10);
    if (input && input.files.length && input.files[0].size > max) {
      event.preventDefault();
      input.setCustomValidity(form.getAttribute("data-too-large") || "> 20 MB");
      input.reportValidity();
      input.setCustomValidity("");
    }
  });

  document.addEventListener("change", function (event) {
    if (!event.target.matches("[data-fax-select-all]")) return;
    document.querySelectorAll('input[name="ids"][form="fax-bulk"]').forEach(function (box) {
      box.checked = event.target.checked;
    });
  });
})();

// Where keyboard focus goes after a form's htmx swap replaced the element that had it (never on the
// live updates of the preview and the sent list): the first field with an error, the undo button
// after a delete, or the heading of the swapped region.
(function () {
  var REGIONS = "#fax-docs, #fax-compose, #fax-received, #fax-settings, #fax-sent";
  var regionId = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    regionId = null;
    if (!elt || !elt.closest || elt.tagName !== "FORM") return;
    var region = elt.closest(REGIONS);
    if (region) regionId = region.id;
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (!regionId) return;
    var id = regionId;
    regionId = null;
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return;
    var region = document.getElementById(id) || document.getElementById("fax-compose");
    if (!region) return;
    var target = region.querySelector('[aria-invalid="true"]') || region.querySelector(".vm-undo button");
    if (!target) {
      target = region.querySelector("h2");
      if (target) target.setAttribute("tabindex", "-1");
    }
    if (target) target.focus();
  });
})();
