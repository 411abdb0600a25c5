import { createSocket, type Socket } from "node:dgram";

/** A DNS server on loopback UDP: the simulator's name service, and the dns probe tests'. */
export interface DnsServer {
  /** "127.0.0.1:PORT": what a dns probe's `server` names. */
  readonly server: string;
  close(): Promise<void>;
}

/** The IPv4 address a name has, or null for NXDOMAIN. */
export type DnsAnswer = (name: string) => string | null;

/** Answers A questions by `addressOf`; another type of a known name gets no records (NOERROR). */
export async function startDnsServer(addressOf: DnsAnswer, host = "127.0.0.1"): Promise<DnsServer> {
  const socket: Socket = createSocket("udp4");
  socket.on("message", (query, peer) => {
    const answer = answerTo(query, addressOf);
    if (answer) socket.send(answer, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return {
    server: `${host}:${socket.address().port}`,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** RFC 1035: the header, the question as asked, and one A record or rcode 3 (NXDOMAIN). */
function answerTo(query: Buffer, addressOf: DnsAnswer): Buffer | null {
  if (query.length < 12) return null;
  let at = 12;
  const labels: string[] = [];
  while (at < query.length && query[at]! > 0) {
    labels.push(query.subarray(at + 1, at + 1 + query[at]!).toString("ascii"));
    at += 1 + query[at]!;
  }
  const questionEnd = at + 5;
  // A question cut short gets no answer (a stray packet must not throw in the agent's process).
  if (questionEnd > query.length) return null;
  const qtype = query.readUInt16BE(at + 1);
  const address = addressOf(labels.join(".").toLowerCase()) ?? undefined;
  const found = address !== undefined && qtype === 1;
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  // QR, opcode 0, AA, RD copied, RA; rcode 0 or 3.
  header.writeUInt16BE(
    0x8400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | (address === undefined ? 3 : 0),
    2,
  );
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(found ? 1 : 0, 6);
  const question = query.subarray(12, questionEnd);
  if (!found) return Buffer.concat([header, question]);
  const record = Buffer.alloc(16);
  record.writeUInt16BE(0xc00c, 0);
  record.writeUInt16BE(1, 2);
  record.writeUInt16BE(1, 4);
  record.writeUInt32BE(60, 6);
  record.writeUInt16BE(4, 10);
  address.split(".").forEach((octet, i) => {
    record[12 + i] = Number(octet);
  });
  return Buffer.concat([header, question, record]);
}
