import { authorizeAdmin, type Route, reply } from "../export/index.js";
import type { Secret } from "../model/secret.js";
import type { ReloadOutcome } from "./reload.js";

const REFUSED: Record<401 | 403, string> = {
  401: "unauthorized: send Authorization: Bearer <agent.admin_token>\n",
  403: "forbidden: no agent.admin_token is configured, so the admin endpoints are off\n",
};

/** `POST /-/reload`: 200 with what changed, 400 with the problems of a refused configuration. */
export function reloadRoute(
  token: () => Secret | null,
  reload: (trigger: string) => Promise<ReloadOutcome>,
): Route {
  return {
    path: "/-/reload",
    method: "POST",
    async handle(request, response) {
      request.resume();
      const verdict = authorizeAdmin(request.headers.authorization, token());
      if (verdict !== 200) {
        reply(response, verdict, REFUSED[verdict], verdict === 401 ? { "www-authenticate": "Bearer" } : {});
        return;
      }
      const outcome = await reload("http");
      response.writeHead(outcome.ok ? 200 : 400, { "content-type": "application/json" });
      response.end(`${JSON.stringify(outcome)}\n`);
    },
  };
}
