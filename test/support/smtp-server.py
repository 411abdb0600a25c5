"""A real SMTP server on loopback for the email receiver's tests (Debian's python3-aiosmtpd).

Usage: python3 smtp-server.py CERT KEY   -> STARTTLS offered and required before MAIL
       python3 smtp-server.py plain      -> no STARTTLS at all
Listens on 127.0.0.1 port 0, prints {"port": N} and then one JSON line per message received.
"""
import asyncio
import json
import ssl
import sys

from aiosmtpd.smtp import SMTP


class Handler:
    async def handle_DATA(self, server, session, envelope):
        print(
            json.dumps(
                {
                    "tls": session.ssl is not None,
                    "from": envelope.mail_from,
                    "to": envelope.rcpt_tos,
                    "data": envelope.content.decode("utf8", "replace"),
                }
            ),
            flush=True,
        )
        return "250 Message accepted for delivery"


async def main():
    if sys.argv[1] == "plain":
        factory = lambda: SMTP(Handler(), hostname="localhost")
    else:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[1], sys.argv[2])
        factory = lambda: SMTP(Handler(), hostname="localhost", tls_context=context, require_starttls=True)
    server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
