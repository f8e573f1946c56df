// Safehold web UI: keyboard shortcuts for the alert queue (j, k, Enter) and error display
// for htmx requests. Loaded as a file (the pages allow no inline script).
(function () {
  "use strict";
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr[data-row]")); }
  function current() { return document.querySelector("tr[data-row].current"); }
  function select(row) {
    rows().forEach(function (r) { r.classList.remove("current"); });
    if (row) { row.classList.add("current"); row.focus(); }
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target && /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(target.tagName)) { return; }
    var all = rows();
    if (!all.length) { return; }
    var at = all.indexOf(current());
    if (event.key === "j") { select(all[Math.min(at + 1, all.length - 1)]); event.preventDefault(); }
    else if (event.key === "k") { select(all[Math.max(at - 1, 0)]); event.preventDefault(); }
    else if (event.key === "Enter" && at >= 0) { window.location.href = all[at].getAttribute("data-href"); event.preventDefault(); }
  });
  // htmx leaves 4xx answers unswapped by default; show their message instead of nothing.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 409 && event.detail.target && event.detail.target.tagName === "TR") {
      event.detail.shouldSwap = true; event.detail.isError = false; return;
    }
    if (status >= 400 && status < 500) {
      event.detail.shouldSwap = true; event.detail.isError = false;
      event.detail.target = document.getElementById("flash");
    }
  });
})();
