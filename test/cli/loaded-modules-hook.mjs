// Preloaded with `node --import`: appends every module URL the process loads to $LOADED_MODULES_FILE.
import { appendFileSync } from "node:fs";
import { register } from "node:module";

const file = process.env.LOADED_MODULES_FILE;
const { port1, port2 } = new MessageChannel();
port1.on("message", (url) => appendFileSync(file, `${url}\n`));
port1.unref();
register(
  `data:text/javascript,${encodeURIComponent(`
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  port.postMessage(resolved.url);
  return resolved;
}`)}`,
  { data: { port: port2 }, transferList: [port2] },
);
