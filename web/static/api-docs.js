// /api/docs: Swagger UI (from the npm registry, served from /static/vendor) started from this file, since the
// Content-Security-Policy allows no inline script. No validator badge: it would call a third-party site.
(function () {
  var root = document.getElementById("swagger-ui");
  if (!root || !window.SwaggerUIBundle) { return; }
  window.SwaggerUIBundle({ url: root.dataset.url, domNode: root, deepLinking: true, validatorUrl: null });
})();
