// Small progressive enhancements shared by every page.

// Toasts from HX-Trigger "toast" events (or showToast(text) from other scripts): at most three at a
// time (the oldest goes), each closable, gone by itself after a while. #toasts is a polite live
// region, so screen readers still hear each text as it is added; the close button's label comes
// from the container (in the page's language).
var TOAST_LIMIT = 3;
var TOAST_MILLIS = 8000;

function showToast(text, kind) {
  var box = document.getElementById("toasts");
  if (!box || !text) return null;
  var note = document.createElement("div");
  note.className = "toast" + (kind ? " toast-" + kind : "");
  var message = document.createElement("span");
  message.textContent = text;
  var close = document.createElement("button");
  close.type = "button";
  close.className = "toast-close";
  close.setAttribute("aria-label", box.dataset.closeLabel || "Close");
  close.textContent = "×";
  close.addEventListener("click", function () { note.remove(); });
  note.appendChild(message);
  note.appendChild(close);
  box.appendChild(note);
  while (box.children.length > TOAST_LIMIT) box.firstElementChild.remove();
  setTimeout(function () { note.remove(); }, kind === "error" ? TOAST_MILLIS + 4000 : TOAST_MILLIS);
  return note;
}
window.showToast = showToast;

document.addEventListener("toast", function (event) {
  showToast((event.detail && (event.detail.value || event.detail.message)) || "");
});

// Escape closes the newest toast.
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") return;
  var box = document.getElementById("toasts");
  if (box && box.lastElementChild) box.lastElementChild.remove();
});

// <noscript> fallbacks (a "Search" or "Show the sites" button that submits by GET) are inert text
// in a page the browser loaded, but htmx parses swapped content without scripting, which would turn
// them into real buttons: the first one of a form then answers Enter. They never enter a swap.
document.addEventListener("htmx:beforeSwap", function (event) {
  if (typeof event.detail.serverResponse === "string") {
    event.detail.serverResponse = event.detail.serverResponse.replace(/<noscript\b[\s\S]*?<\/noscript>/gi, "");
  }
});

// A page restored from htmx's history cache is parsed the same way: its <noscript> elements then
// hold real elements (the browser's own parse leaves only text in them), which go.
document.addEventListener("htmx:historyRestore", function () {
  document.querySelectorAll("noscript").forEach(function (n) { if (n.children.length) n.remove(); });
});

// Enter in a live search field inside a form searches (the field's own htmx request) instead of
// submitting the form around it (which would, say, assign a number).
document.addEventListener("keydown", function (event) {
  var input = event.target;
  if (event.key !== "Enter" || !input.matches || !input.matches('input[type="search"][hx-get]') || !input.form) return;
  event.preventDefault();
  if (window.htmx) window.htmx.trigger(input, "search");
});

// Busy state: a form with data-busy-text disables its submit button while its request runs and
// puts that text on it; a <progress data-upload-progress> in it shows how much is uploaded.
document.addEventListener("htmx:beforeRequest", function (event) {
  var form = event.detail.elt.closest && event.detail.elt.closest("form[data-busy-text]");
  if (!form) return;
  var button = form.querySelector('button[type="submit"]');
  if (button) {
    button.dataset.idleText = button.textContent;
    button.textContent = form.dataset.busyText;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  }
  form.setAttribute("aria-busy", "true");
  var progress = form.querySelector("progress[data-upload-progress]");
  if (progress) { progress.hidden = false; progress.removeAttribute("value"); }
});

document.addEventListener("htmx:xhr:progress", function (event) {
  var form = event.detail.elt.closest && event.detail.elt.closest("form[data-busy-text]");
  var progress = form && form.querySelector("progress[data-upload-progress]");
  if (progress && event.detail.lengthComputable && event.detail.total) {
    progress.max = 100;
    progress.value = Math.round(event.detail.loaded * 100 / event.detail.total);
  }
});

document.addEventListener("htmx:afterRequest", function (event) {
  var form = event.detail.elt.closest && event.detail.elt.closest("form[data-busy-text]");
  if (!form || !document.contains(form)) return;  // usually swapped away with the new content
  var button = form.querySelector('button[type="submit"]');
  if (button && button.dataset.idleText) {
    button.textContent = button.dataset.idleText;
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
  form.removeAttribute("aria-busy");
  var progress = form.querySelector("progress[data-upload-progress]");
  if (progress) progress.hidden = true;
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
