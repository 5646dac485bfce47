// inkan-verify ui: a little help on top of a form that works without it: files dropped on
// the page go to the right inputs, the form says that it is working, and the verdict gets the
// focus so that a screen reader reads it first. Nothing is fetched or sent anywhere.
"use strict";
(function () {
  const SIGNATURE = /\.(p7s|p7m|p7b|tsr|tst|der|pem)$/i;
  function only(file) {
    const dt = new DataTransfer();
    dt.items.add(file);
    return dt.files;
  }
  function start() {
    const verdict = document.getElementById("verdict");
    if (verdict) verdict.focus();
    const problem = document.getElementById("problem");
    if (problem) problem.scrollIntoView();
    const form = document.getElementById("verify-form");
    const zone = document.getElementById("drop");
    const sig = document.getElementById("signature");
    const data = document.getElementById("data");
    const status = document.getElementById("status");
    if (!form || !zone || !sig || !data) return;
    // A file dropped anywhere else must not make the browser leave the page.
    ["dragover", "drop"].forEach(function (t) {
      window.addEventListener(t, function (e) { e.preventDefault(); });
    });
    ["dragenter", "dragover"].forEach(function (t) {
      zone.addEventListener(t, function () { zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      zone.addEventListener(t, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      const files = Array.from((e.dataTransfer && e.dataTransfer.files) || []);
      if (files.length === 0) return;
      let s = files.find(function (f) { return SIGNATURE.test(f.name); }) || files[0];
      sig.files = only(s);
      const rest = files.filter(function (f) { return f !== s; });
      if (rest.length > 0) data.files = only(rest[0]);
      if (status) {
        status.textContent = files.map(function (f) { return f.name; }).join(", ");
      }
    });
    form.addEventListener("submit", function (e) {
      // The server refuses larger uploads; say so before sending them.
      const maxBody = Number(form.dataset.maxBody);
      const maxFile = Number(form.dataset.maxFile);
      let total = 0;
      let tooLarge = false;
      form.querySelectorAll("input[type=file]").forEach(function (input) {
        Array.from(input.files).forEach(function (f) {
          total += f.size;
          if (input !== data && f.size > maxFile) tooLarge = true;
        });
      });
      if (tooLarge || total > maxBody) {
        e.preventDefault();
        if (status) status.textContent = form.dataset.tooLarge;
        return;
      }
      const button = document.getElementById("submit");
      if (button) button.disabled = true;
      form.setAttribute("aria-busy", "true");
      if (status) status.textContent = document.documentElement.lang === "ja" ? "検証しています…" : "Verifying…";
    });
  }
  // Coming back to the page (history) must leave the form usable.
  window.addEventListener("pageshow", function () {
    const button = document.getElementById("submit");
    if (button) button.disabled = false;
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
