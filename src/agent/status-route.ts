import { type Route, renderIndexPage, renderStatusPage, type StatusPageModel } from "../export/index.js";

/** `/status` (the page) and `/` (links to every endpoint), rendered on each request. */
export function pageRoutes(model: () => StatusPageModel): Route[] {
  const html = (body: string) => ({
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  return [
    {
      path: "/status",
      method: "GET",
      handle(request, response) {
        const body = renderStatusPage(model());
        response.writeHead(200, { ...html(body), "cache-control": "no-store" });
        response.end(request.method === "HEAD" ? undefined : body);
      },
    },
    {
      path: "/",
      method: "GET",
      handle(request, response) {
        const current = model();
        const body = renderIndexPage(current.version);
        response.writeHead(200, html(body));
        response.end(request.method === "HEAD" ? undefined : body);
      },
    },
  ];
}
