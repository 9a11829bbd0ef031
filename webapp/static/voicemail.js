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
