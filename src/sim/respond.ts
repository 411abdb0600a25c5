/**
 * Putting a response on the wire, whole or damaged: trickled slowly, cut off mid-body, or the
 * connection reset before anything is sent.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";

/** Runs fn after ms through the simulator's clock; close() cancels whatever is still pending. */
export type Schedule = (fn: () => void, ms: number) => void;

export interface Reply {
  readonly status: number;
  /** Built when the headers are written, so Server-Timing covers everything before them. */
  readonly headers: () => OutgoingHttpHeaders;
  readonly body: Buffer;
}

/** Slow bodies are sent in about ten pieces a second. */
const TRICKLE_TICKS_PER_SECOND = 10;

function gone(res: ServerResponse): boolean {
  return res.destroyed || res.writableEnded || (res.socket?.destroyed ?? true);
}

export function sendWhole(res: ServerResponse, reply: Reply): void {
  if (gone(res)) return;
  res.writeHead(reply.status, { ...reply.headers(), "Content-Length": reply.body.length });
  res.end(reply.body);
}

/** Headers at once, then the body at bytesPerSecond, padded with trailing spaces to padTo bytes. */
export function sendSlowly(
  res: ServerResponse,
  reply: Reply,
  bytesPerSecond: number,
  padTo: number | null,
  schedule: Schedule,
): void {
  if (gone(res)) return;
  const body =
    padTo !== null && padTo > reply.body.length
      ? Buffer.concat([reply.body, Buffer.alloc(padTo - reply.body.length, " ")])
      : reply.body;
  res.writeHead(reply.status, { ...reply.headers(), "Content-Length": body.length });
  res.flushHeaders();
  const chunk = Math.max(1, Math.floor(bytesPerSecond / TRICKLE_TICKS_PER_SECOND));
  const tickMs = (chunk / bytesPerSecond) * 1000;
  let sent = 0;
  const tick = (): void => {
    if (gone(res)) return;
    const piece = body.subarray(sent, sent + chunk);
    sent += piece.length;
    if (sent >= body.length) res.end(piece);
    else {
      res.write(piece);
      schedule(tick, tickMs);
    }
  };
  schedule(tick, tickMs);
}

/** Headers and about half the body, then the connection is closed with the body incomplete. */
export function sendAndCutMidBody(res: ServerResponse, reply: Reply): void {
  if (gone(res)) return;
  res.writeHead(reply.status, { ...reply.headers(), "Content-Length": reply.body.length });
  const half = Math.max(1, Math.floor(reply.body.length / 2));
  // Destroy only once the partial body is handed to the kernel, so the client really sees it.
  res.write(reply.body.subarray(0, half), () => res.socket?.destroy());
}

/** A TCP reset before any byte of the response. */
export function resetConnection(req: IncomingMessage): void {
  const socket = req.socket;
  if (socket.destroyed) return;
  socket.resetAndDestroy();
}
