// 联结 Lianjie — starts Swagger UI on /docs/swagger from a file: the Content-Security-Policy allows no inline script.
window.addEventListener("load", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: new URL(root.dataset.specUrl, window.location.href).href,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    // BaseLayout: the operations without the standalone top bar, whose logo is an SVG with an inline
    // <style> the policy would block (and whose URL box is not needed for this one API).
    layout: "BaseLayout",
    validatorUrl: null,  // no badge from the online validator: nothing leaves this site
    showExtensions: true,
    showCommonExtensions: true,
  });
});
