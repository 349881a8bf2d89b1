// Starts the vendored Swagger UI on the OpenAPI description (no inline script: keeps the CSP strict).
window.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: el.dataset.spec, domNode: el, deepLinking: true });
});
