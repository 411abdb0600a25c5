import { createSocket, type Socket } from "node:dgram";

/** A DNS server on loopback UDP that knows a few A records and answers NXDOMAIN for the rest. */
export interface DnsServer {
  readonly server: string;
  close(): Promise<void>;
}

export async function startDnsServer(records: Readonly<Record<string, string>>): Promise<DnsServer> {
  const socket: Socket = createSocket("udp4");
  socket.on("message", (query, peer) => {
    const answer = answerTo(query, records);
    if (answer) socket.send(answer, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    server: `127.0.0.1:${socket.address().port}`,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** RFC 1035: the header, the question as asked, and one A record or rcode 3 (NXDOMAIN). */
function answerTo(query: Buffer, records: Readonly<Record<string, string>>): Buffer | null {
  if (query.length < 12) return null;
  let at = 12;
  const labels: string[] = [];
  while (at < query.length && query[at]! > 0) {
    labels.push(query.subarray(at + 1, at + 1 + query[at]!).toString("ascii"));
    at += 1 + query[at]!;
  }
  const questionEnd = at + 5;
  const qtype = query.readUInt16BE(at + 1);
  const address = records[labels.join(".").toLowerCase()];
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
