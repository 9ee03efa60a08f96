#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) on 127.0.0.1 for flspost's delivery tests.

usage: smtp_server.py PORT OUTDIR [CERT KEY]

The reply to DATA is chosen by the file OUTDIR/mode, read for every mail so a test can
change it while the server runs: `accept` (250, the default), `tempfail` (451) or
`permfail` (554), or `reply:TEXT`, TEXT as the whole reply (`\r\n` in it ends a line of a
multi-line reply), or `slow:SECONDS`: store the mail, then wait that long before the 250 (a
gateway that stored a mail and whose answer is late or never reaches the client). Each accepted mail is stored as OUTDIR/mail-N.eml, and each attachment,
decoded by Python's own email package, as OUTDIR/mail-N-FILENAME. With CERT and KEY the
server offers STARTTLS and refuses mail without it.
"""
import asyncio
import email
import logging
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0
        self.lock = threading.Lock()

    def mode(self):
        try:
            with open(os.path.join(self.outdir, "mode")) as f:
                return f.read().strip() or "accept"
        except FileNotFoundError:
            return "accept"

    async def handle_DATA(self, server, session, envelope):
        mode = self.mode()
        if mode == "tempfail":
            return "451 4.3.0 Mailbox busy, try again later"
        if mode == "permfail":
            return "554 5.6.0 Message refused by policy"
        if mode.startswith("reply:"):
            return mode[len("reply:"):].replace("\\r\\n", "\r\n")
        with self.lock:
            self.count += 1
            n = self.count
        raw = envelope.original_content or envelope.content
        with open(os.path.join(self.outdir, f"mail-{n}.eml"), "wb") as f:
            f.write(raw)
        msg = email.message_from_bytes(raw)
        for part in msg.walk():
            name = part.get_filename()
            if name:
                with open(os.path.join(self.outdir, f"mail-{n}-{name}"), "wb") as f:
                    f.write(part.get_payload(decode=True))
        if mode.startswith("slow:"):
            await asyncio.sleep(float(mode[len("slow:"):]))
        return "250 2.0.0 OK queued"


def main():
    # A client refusing our test certificate is expected; keep its traceback out of the test output.
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    port, outdir = int(sys.argv[1]), sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    tls = {}
    if len(sys.argv) == 5:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
        tls = {"tls_context": context, "require_starttls": True}
    controller = Controller(Handler(outdir), hostname="127.0.0.1", port=port, **tls)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # Stop by itself after a while: a test that dies must not leave a server behind.
    stop.wait(timeout=600)
    controller.stop()


if __name__ == "__main__":
    main()
