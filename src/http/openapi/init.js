// Starts Swagger UI on the document this server generates (its URL is in
// the page, `data-schema-url`). No validator badge: it would call
// validator.swagger.io, and the page makes no request outside this origin.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
