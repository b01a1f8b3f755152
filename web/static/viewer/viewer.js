// The log viewer's behaviour on top of the server-rendered page (server/viewer/page.ts),
// which works without it: line ranges in the URL (#L120-L140), shift-click to select a
// range, copying a link to the selection, next/previous error, and the wrap toggle.
(function () {
  "use strict";
  var RANGE = /^#L(\d+)(?:-L?(\d+))?$/;
  var WRAP_KEY = "litepaste.viewer.wrap";
  var selected = [];
  var anchor = null;
  var copyButton = document.querySelector('[data-action="copy-link"]');

  function line(n) {
    return document.getElementById("L" + n);
  }

  function numberOf(el) {
    return Number(el.id.slice(1));
  }

  function parseHash(hash) {
    var m = RANGE.exec(hash);
    if (!m) return null;
    var a = Number(m[1]);
    var b = m[2] ? Number(m[2]) : a;
    return a <= b ? [a, b] : [b, a];
  }

  function hashOf(range) {
    return range[0] === range[1] ? "#L" + range[0] : "#L" + range[0] + "-L" + range[1];
  }

  function select(range, scroll) {
    selected.forEach(function (el) { el.classList.remove("sel"); });
    selected = [];
    if (!range) {
      if (copyButton) copyButton.disabled = true;
      return;
    }
    for (var n = range[0]; n <= range[1]; n++) {
      var el = line(n);
      if (!el) break;
      el.classList.add("sel");
      selected.push(el);
    }
    if (copyButton) copyButton.disabled = selected.length === 0;
    if (scroll && selected.length > 0) selected[0].scrollIntoView({ block: "center" });
  }

  function go(range, scroll) {
    history.replaceState(null, "", hashOf(range));
    select(range, scroll);
  }

  var log = document.getElementById("log");
  // A binary paste has a notice and no lines.
  if (log) log.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element) || !target.classList.contains("n")) return;
    event.preventDefault();
    var n = numberOf(target.parentElement);
    if (event.shiftKey && anchor !== null) {
      go(anchor <= n ? [anchor, n] : [n, anchor], false);
    } else {
      anchor = n;
      go([n, n], false);
    }
  });

  window.addEventListener("hashchange", function () {
    var range = parseHash(location.hash);
    if (range) anchor = range[0];
    select(range, true);
  });

  if (copyButton) {
    copyButton.addEventListener("click", function () {
      var url = location.href;
      var done = function () {
        copyButton.textContent = "Link copied";
        setTimeout(function () { copyButton.textContent = "Copy link to lines"; }, 1500);
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(url).then(done, function () { window.prompt("Copy this link:", url); });
      } else {
        window.prompt("Copy this link:", url);
      }
    });
  }

  // Errors and warnings, in line order.
  var marks = Array.prototype.slice.call(document.querySelectorAll(".l.e, .l.w"));
  var errors = document.querySelectorAll(".l.e").length;
  var count = document.querySelector(".error-count");
  if (count) count.textContent = errors + " error" + (errors === 1 ? "" : "s") + ", " + (marks.length - errors) + " warning" + (marks.length - errors === 1 ? "" : "s");

  function current() {
    if (selected.length > 0) return numberOf(selected[0]);
    return 0;
  }

  function jump(direction) {
    if (marks.length === 0) return;
    var from = current();
    var target = null;
    if (direction > 0) {
      target = marks.find(function (el) { return numberOf(el) > from; }) || marks[0];
    } else {
      for (var i = marks.length - 1; i >= 0; i--) if (numberOf(marks[i]) < from) { target = marks[i]; break; }
      target = target || marks[marks.length - 1];
    }
    var n = numberOf(target);
    anchor = n;
    go([n, n], true);
  }

  document.querySelectorAll("[data-action]").forEach(function (button) {
    var action = button.getAttribute("data-action");
    if (action === "next-error") button.addEventListener("click", function () { jump(1); });
    if (action === "prev-error") button.addEventListener("click", function () { jump(-1); });
    if (action === "next-error" || action === "prev-error") button.disabled = marks.length === 0;
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.target instanceof HTMLInputElement) return;
    if (event.key === "n") jump(1);
    if (event.key === "p") jump(-1);
  });

  var wrapButton = document.querySelector('[data-action="wrap"]');
  function setWrap(on) {
    document.body.classList.toggle("wrap", on);
    if (wrapButton) wrapButton.setAttribute("aria-pressed", String(on));
    try { localStorage.setItem(WRAP_KEY, on ? "1" : "0"); } catch { /* storage off: the choice lasts for this page */ }
  }
  var savedWrap = null;
  try { savedWrap = localStorage.getItem(WRAP_KEY); } catch { /* storage off */ }
  if (savedWrap === "1") setWrap(true);
  if (wrapButton) wrapButton.addEventListener("click", function () { setWrap(!document.body.classList.contains("wrap")); });

  document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });

  var initial = parseHash(location.hash);
  if (initial) {
    anchor = initial[0];
    select(initial, true);
  }
  document.documentElement.setAttribute("data-viewer", "ready");
})();
