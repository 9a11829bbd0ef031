// Konferenz page enhancements: copy buttons, and meeting times in the viewer's time zone
// (the server writes them in Berlin time; a browser elsewhere rewrites them in its own zone).
(function () {
  function setup(root) {
    root.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
      if (!navigator.clipboard) return;
      button.hidden = false;
      if (button.dataset.ready) return;
      button.dataset.ready = "1";
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copy);
        if (!source) return;
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          document.dispatchEvent(new CustomEvent("toast", { detail: { value: button.dataset.copied || "✓" } }));
        });
      });
    });
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone || zone === "Europe/Berlin") return;
    root.querySelectorAll("time[data-local-time]").forEach(function (node) {
      var moment = new Date(node.getAttribute("datetime"));
      if (isNaN(moment)) return;
      node.title = node.textContent.trim() + " (Berlin)";
      node.textContent = moment.toLocaleString(document.documentElement.lang || undefined, {
        weekday: "short", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
        timeZoneName: "short",
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setup(document); });
  document.addEventListener("htmx:afterSettle", function (event) { setup(event.target); });
})();
