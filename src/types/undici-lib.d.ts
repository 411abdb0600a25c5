// undici's own modules, imported one by one by src/undici-parts.ts: the package types its index
// only, so each is declared here with the type the index exports it as.
declare module "undici/lib/dispatcher/agent.js" {
  import type { Agent } from "undici";

  const AgentClass: typeof Agent;
  export default AgentClass;
}

declare module "undici/lib/core/connect.js" {
  import type { buildConnector } from "undici";

  const build: typeof buildConnector;
  export default build;
}

declare module "undici/lib/api/api-request.js" {
  import type { Dispatcher } from "undici";

  /** Dispatcher.prototype.request as undici's index installs it: called with the dispatcher as `this`. */
  function request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
  export default request;
}
