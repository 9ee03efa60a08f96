#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) on 127.0.0.1 for flspost's delivery tests.

usage: smtp_server.py PORT OUTDIR [CERT KEY]

The reply to DATA is chosen by the file OUTDIR/mode, read for every mail so a test can
change it while the server runs: `accept` (250, the default), `tempfail` (451) or
`permfail` (554), or `reply:TEXT`, TEXT as the whole reply (`\r\n` in it ends a line of a
multi-line reply; `{message_id}` in it is the mail's Message-ID, as a server quotes it), or
`slow:SECONDS`: store the mail, then wait that long before the 250 (a gateway that stored a
mail and whose answer is late or never reaches the client). `rcpt:TEXT` answers TEXT to
every RCPT TO instead (`{rcpt}` in it is the address), so the mail never gets to DATA: a
gateway refusing every receiver alike. Prefixes: `wait:SECONDS:MODE` waits that long, then
answers as MODE does; `for:N:MODE` is MODE for the next N mails (counted from when the mode
file first says it), then `accept`; `until:UNIX_TIME:MODE` is MODE until then, then `accept`
(a gateway broken for a while); `match:TEXT:MODE` is MODE for a mail whose attachments,
decoded, contain TEXT (a GP's EAN: a receiver the gateway refuses), `accept` for the others. Every reply that refused a mail is appended, one line each,
to OUTDIR/refused.log. Each accepted mail is stored as OUTDIR/mail-N.eml, and each
attachment, decoded by Python's own email package, as OUTDIR/mail-N-FILENAME. With CERT and
KEY the server offers STARTTLS and refuses mail without it.
"""
import asyncio
import email
import logging
import os
import signal
import ssl
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0
        self.lock = threading.Lock()
        # `for:N:MODE`: how many mails each such mode file has had.
        self.used = {}

    def mode(self):
        try:
            with open(os.path.join(self.outdir, "mode")) as f:
                return f.read().strip() or "accept"
        except FileNotFoundError:
            return "accept"

    def current(self, stage, content=b""):
        """The mode in force at `stage` (`rcpt` or `data`, with the mail's decoded `content`),
        without its prefixes, and how long to wait first. A mail counts for `for:N:` at the
        stage its mode answers (RCPT for `rcpt:`, DATA for the others)."""
        text = self.mode()
        inner = text
        while inner.split(":", 1)[0] in ("wait", "until", "for", "match"):
            inner = inner.split(":", 2)[2]
        counts = (stage == "rcpt") == inner.startswith("rcpt:")
        mode, wait = text, 0.0
        while True:
            if mode.startswith("wait:"):
                seconds, mode = mode[len("wait:"):].split(":", 1)
                wait += float(seconds)
            elif mode.startswith("until:"):
                until, mode = mode[len("until:"):].split(":", 1)
                if time.time() >= float(until):
                    return "accept", 0.0
            elif mode.startswith("match:"):
                needle, mode = mode[len("match:"):].split(":", 1)
                if needle.encode() not in content:
                    return "accept", 0.0
            elif mode.startswith("for:"):
                n, mode = mode[len("for:"):].split(":", 1)
                with self.lock:
                    used = self.used.get(text, 0)
                    if used >= int(n):
                        return "accept", 0.0
                    if counts:
                        self.used[text] = used + 1
            else:
                return mode, wait

    def refused(self, reply):
        with self.lock:
            with open(os.path.join(self.outdir, "refused.log"), "a") as f:
                f.write(reply.replace("\r\n", " ") + "\n")
        return reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        mode, wait = self.current("rcpt")
        if mode.startswith("rcpt:"):
            if wait:
                await asyncio.sleep(wait)
            return self.refused(mode[len("rcpt:"):].replace("{rcpt}", address))
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw)
        content = b"".join(p.get_payload(decode=True) or b"" for p in msg.walk() if p.get_filename())
        mode, wait = self.current("data", content)
        if wait:
            await asyncio.sleep(wait)
        if mode == "tempfail":
            return self.refused("451 4.3.0 Mailbox busy, try again later")
        if mode == "permfail":
            return self.refused("554 5.6.0 Message refused by policy")
        if mode.startswith("reply:"):
            text = mode[len("reply:"):].replace("\\r\\n", "\r\n")
            return self.refused(text.replace("{message_id}", msg.get("Message-ID", "")))
        with self.lock:
            self.count += 1
            n = self.count
        with open(os.path.join(self.outdir, f"mail-{n}.eml"), "wb") as f:
            f.write(raw)
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
