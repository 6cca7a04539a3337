// Starts Swagger UI on /api/docs. An external file, not an inline script: the app's CSP is script-src 'self'.
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: node.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null, // no badge fetched from an outside validator: offline, and img-src is 'self'
    presets: [SwaggerUIBundle.presets.apis],
  });
})();
