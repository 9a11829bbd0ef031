// Small progressive enhancements: toasts from HX-Trigger "toast" events.
document.addEventListener("toast", function (event) {
  var box = document.getElementById("toasts");
  if (!box) return;
  var note = document.createElement("div");
  note.className = "toast";
  note.textContent = (event.detail && (event.detail.value || event.detail.message)) || "";
  box.appendChild(note);
  setTimeout(function () { note.remove(); }, 5000);
});
