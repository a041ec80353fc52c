// meshkb — small progressive enhancements. Pages work without this file.
(function () {
  "use strict";

  // Copy to the clipboard. navigator.clipboard exists only in secure contexts (HTTPS or
  // localhost), and meshkb often runs on a plain-HTTP internal hostname, so fall back to
  // selecting a hidden textarea and execCommand("copy").
  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch (err) { /* fall through to the legacy path */ }
    }
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.top = "-1000px";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
    area.remove();
    return ok;
  }

  function announce(message) {
    var region = document.getElementById("live-region");
    if (region) { region.textContent = message; }
  }

  // Buttons with data-copy copy their code block's <pre>, or the element named by
  // data-copy-target. Delegated, so content swapped in by htmx works too.
  document.addEventListener("click", async function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var source = button.dataset.copyTarget
      ? document.querySelector(button.dataset.copyTarget)
      : button.closest(".codeblock").querySelector("pre");
    if (!source) { return; }
    var ok = await copyText(source.textContent);
    var original = button.dataset.label || button.textContent;
    button.dataset.label = original;
    button.textContent = ok ? "Copied!" : "Press Ctrl+C";
    button.classList.toggle("copied", ok);
    announce(ok ? "Copied to the clipboard" : "Copy failed: select the text and press Ctrl+C");
    clearTimeout(button._copyTimer);
    button._copyTimer = setTimeout(function () {
      button.textContent = original;
      button.classList.remove("copied");
    }, 2000);
  });
})();
