// The home page's upload form: text or a file (picker or drag-and-drop), then a shareable
// link with a copy button. As on LogPaste's page, the text stays in the box after an upload
// and the server decides what it refuses: its own message is what the page shows.
"use strict";

(function () {
  const form = document.getElementById("upload-form");
  const textarea = document.getElementById("upload-textarea");
  const fileInput = document.getElementById("upload-file");
  const fileLabel = document.getElementById("upload-file-label");
  const button = document.getElementById("upload");
  const errorBox = document.getElementById("form-upload-error");
  const result = document.getElementById("result");
  let chosenFile = null;

  function chooseFile(file) {
    chosenFile = file;
    fileLabel.textContent = file ? `${file.name} (${file.size.toLocaleString()} bytes)` : "Choose a file…";
    textarea.disabled = Boolean(file);
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function showLink(id) {
    const url = `${window.location.origin}/${id}`;
    const heading = document.createElement("h3");
    heading.textContent = "Shareable link";
    const link = document.createElement("a");
    link.href = `/${id}`;
    link.textContent = url;
    const copy = document.createElement("button");
    copy.type = "button";
    copy.className = "copy";
    copy.textContent = "Copy link";
    copy.addEventListener("click", () => {
      navigator.clipboard.writeText(url).then(
        () => (copy.textContent = "Copied"),
        () => (copy.textContent = "Copy failed: select the link"),
      );
    });
    result.replaceChildren(heading, link, " ", copy);
  }

  fileInput.addEventListener("change", () => chooseFile(fileInput.files[0] || null));

  textarea.addEventListener("dragover", (event) => {
    event.preventDefault();
    textarea.classList.add("dragging");
  });
  textarea.addEventListener("dragleave", () => textarea.classList.remove("dragging"));
  textarea.addEventListener("drop", (event) => {
    event.preventDefault();
    textarea.classList.remove("dragging");
    const file = event.dataTransfer.files[0];
    if (file) chooseFile(file);
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    errorBox.hidden = true;
    const body = chosenFile || textarea.value;
    button.disabled = true;
    window.logpaste
      .uploadText(body)
      .then((id) => {
        showLink(id);
        fileInput.value = "";
        chooseFile(null);
      })
      .catch((err) => {
        result.replaceChildren();
        showError(err.message.trim());
      })
      .finally(() => (button.disabled = false));
  });
})();
