// Small progressive enhancements: toasts from HX-Trigger "toast" events.
function showToast(text, kind) {
  var box = document.getElementById("toasts");
  if (!box || !text) return;
  var note = document.createElement("div");
  note.className = "toast" + (kind ? " toast-" + kind : "");
  note.textContent = text;
  box.appendChild(note);
  setTimeout(function () { note.remove(); }, kind === "error" ? 10000 : 5000);
}

document.addEventListener("toast", function (event) {
  showToast((event.detail && (event.detail.value || event.detail.message)) || "");
});

// htmx swaps no 5xx answer and gets none when the server is unreachable: say so, and that
// nothing was changed (texts in the page's language on <body>).
document.addEventListener("htmx:responseError", function (event) {
  var xhr = event.detail && event.detail.xhr;
  if (xhr && xhr.status >= 500) showToast(document.body.dataset.errorToast, "error");
});
document.addEventListener("htmx:sendError", function () {
  showToast(document.body.dataset.offlineToast, "error");
});
