// litepaste's embeddable client, compatible with LogPaste's logpaste.js:
//   <script src="https://paste.example/static/js/logpaste.js"></script>
//   logpaste.uploadText(text, "https://paste.example").then((id) => ...)
"use strict";

(function () {
  if (Object.prototype.hasOwnProperty.call(window, "logpaste")) return;

  // Resolves to the new paste's id; rejects with the server's message (or the HTTP status text).
  function uploadText(text, baseUrl = "") {
    return fetch(baseUrl + "/", { method: "PUT", body: text }).then((response) => {
      const type = response.headers.get("content-type") || "";
      if (response.status === 200 && type.includes("application/json")) {
        return response.json().then((data) => data.id);
      }
      return response.text().then((message) => {
        throw new Error(message || response.statusText);
      });
    });
  }

  window.logpaste = { uploadText };
})();
