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
