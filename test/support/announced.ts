const ANNOUNCED = /\b(listening|simulator) on (https?:\/\/\S+)/;

/**
 * The URL an agent (`run`, `demo`) or the demo's simulator announced in `output`: a plain
 * "listening on URL" / "simulator on URL" line, or a JSON log line whose msg says so (as with
 * --log-format json); undefined until it has.
 */
export function announcedUrl(
  output: string,
  what: "listening" | "simulator" = "listening",
): string | undefined {
  // Complete lines only: a line still being written could hold half a port number.
  for (const line of output.split("\n").slice(0, -1)) {
    let text = line;
    if (line.startsWith("{")) {
      try {
        const record = JSON.parse(line) as { msg?: unknown; url?: unknown };
        text = typeof record.msg === "string" ? record.msg : "";
        // A structured record may carry the URL beside a bare "listening" msg.
        if (text === what && typeof record.url === "string") return record.url;
      } catch {
        continue; // not JSON after all: a plain line that starts with a brace
      }
    }
    const match = ANNOUNCED.exec(text);
    if (match && match[1] === what) return match[2];
  }
  return undefined;
}
