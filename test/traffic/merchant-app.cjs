// A merchant's service as it is in production: the OpenTelemetry Node SDK with the http
// instrumentation, exporting its spans over OTLP/HTTP protobuf to the agent's /v1/traces. It
// calls the API (the simulator), scripts an outage through the simulator's admin API, and prints
// what it saw, request by request, as one JSON line: the test holds the report to it.
// Usage: node merchant-app.cjs <api base url> <agent /v1/traces url> <token>
"use strict";
const { NodeTracerProvider, BatchSpanProcessor } = require("@opentelemetry/sdk-trace-node");
const { OTLPTraceExporter } = require("@opentelemetry/exporter-trace-otlp-proto");
const { registerInstrumentations } = require("@opentelemetry/instrumentation");
const { HttpInstrumentation } = require("@opentelemetry/instrumentation-http");

const [api, tracesUrl, token] = process.argv.slice(2);
const exporter = new OTLPTraceExporter({ url: tracesUrl, headers: { Authorization: `Bearer ${token}` } });
const provider = new NodeTracerProvider({
  spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: 64, scheduledDelayMillis: 100 })],
});
provider.register();
registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });
// Required after the instrumentation is registered, as an instrumented service does.
const http = require("node:http");

/** One request; resolves {status} or {error} (no response), never rejects. */
function call(method, path, body) {
  return new Promise((resolve) => {
    const request = http.request(`${api}${path}`, {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      timeout: 5_000,
    });
    request.on("timeout", () => request.destroy(new Error("client timeout")));
    request.on("response", (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode }));
      response.on("error", () => resolve({ status: response.statusCode }));
    });
    request.on("error", (error) => resolve({ error: error.code ?? error.message }));
    request.end(body ? JSON.stringify(body) : undefined);
  });
}

const done = [];
async function merchantCalls(rounds) {
  for (let i = 0; i < rounds; i++) {
    const session = await call("POST", "/payments/v1/sessions", {
      purchase_country: "SE",
      purchase_currency: "SEK",
      order_amount: 1000 + i,
    });
    done.push({ route: "POST /payments/v1/sessions", ...session });
    // A real order id and a query string: neither may reach the evidence.
    const order = await call("GET", `/ordermanagement/v1/orders/order-${i}-customer-4711?expand=customer`);
    done.push({ route: "GET /ordermanagement/v1/orders/{order_id}", ...order });
  }
}

async function fault(category, faults) {
  const answer = await call("PATCH", `/__sim/scenario/categories/${category}`, faults);
  if (answer.status !== 200) throw new Error(`simulator refused the fault: ${JSON.stringify(answer)}`);
}

async function main() {
  await merchantCalls(20);
  // The outage: payment requests answered 503, order reads reset before any response.
  await fault("payment_request", { error_rate: 1, error_status: 503 });
  await fault("read_only_payment_transaction", { reset_probability: 1 });
  await merchantCalls(12);
  await fault("payment_request", { error_rate: 0 });
  await fault("read_only_payment_transaction", { reset_probability: 0 });
  await merchantCalls(8);
  await provider.forceFlush();
  await provider.shutdown();
  process.stdout.write(`${JSON.stringify(done)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
