// Starts YASGUI on our own endpoint. No calls leave this site: the page's Content-Security-Policy
// allows connections to 'self' only, and the editor keeps its tabs in local storage.
(function () {
  "use strict";
  var root = document.getElementById("yasgui");
  var endpoint = root.getAttribute("data-endpoint");
  var base = root.getAttribute("data-base");  // the IRIs of our entities (https://w3id.org/missiekompas/id/...)
  var local = root.getAttribute("data-local");  // where this site serves them (/id/...)
  var examples = JSON.parse(document.getElementById("examples").textContent);
  var yasgui = new Yasgui(root, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: false,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    persistenceId: "missiekompas-sparql",
    yasqe: { value: examples[0].query, resizeable: true },
  });
  document.querySelectorAll("[data-example]").forEach(function (button) {
    button.addEventListener("click", function () {
      var tab = yasgui.getTab();
      tab.setQuery(examples[Number(button.getAttribute("data-example"))].query);
      tab.query();
    });
  });
  // Entity IRIs in the results link to this site's own pages: the IRIs are not resolvable everywhere yet,
  // and our /id/ pages show the same entity. YASR has no option for it, so links are rewritten as it draws them.
  function localise(node) {
    if (!base || !local || !node.querySelectorAll) {
      return;
    }
    node.querySelectorAll("a[href]").forEach(function (link) {
      var href = link.getAttribute("href");
      if (href.indexOf(base) === 0) {
        link.setAttribute("href", local + href.substring(base.length));
        link.setAttribute("title", href);
      }
    });
  }
  new MutationObserver(function (changes) {
    changes.forEach(function (change) { change.addedNodes.forEach(localise); });
  }).observe(root, { childList: true, subtree: true });
  localise(root);
  window.missiekompasYasgui = yasgui;
})();
