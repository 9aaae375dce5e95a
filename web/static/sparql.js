// Starts YASGUI on our own endpoint. No calls leave this site: the page's Content-Security-Policy
// allows connections to 'self' only, and the editor keeps its tabs in local storage.
(function () {
  "use strict";
  var root = document.getElementById("yasgui");
  var endpoint = root.getAttribute("data-endpoint");
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
  window.missiekompasYasgui = yasgui;
})();
