#!/usr/bin/python3
"""A real SMTP server (aiosmtpd) on loopback that keeps every accepted message, for the notifier's tests
and benchmark.

For each message it writes <n>.eml (the bytes as received) and then <n>.json (envelope, headers as parsed
by Python's email package, header names as they appear in the raw bytes, the decoded body, the moment it
was accepted). The .json appears last and atomically, so a reader that sees it sees a complete message.

    smtp_capture.py --dir D [--port 0] [--port-file F] [--starttls CERT KEY] [--smtps CERT KEY]
                    [--auth USER:PASSWORD] [--require-starttls]

With --port 0 the kernel picks a free port; the port is written to --port-file once the server listens.
SIGTERM stops it.
"""
import argparse
import asyncio
import email
import email.policy
import itertools
import json
import os
import signal
import ssl
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Capture:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        received_at = time.time()
        raw = envelope.original_content or envelope.content
        auth = getattr(session, "auth_data", None)
        n = "%d-%06d" % (os.getpid(), next(self.counter))
        base = os.path.join(self.directory, n)
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        raw_names = []
        for line in head.replace(b"\r\n", b"\n").split(b"\n"):
            if line and line[:1] not in (b" ", b"\t") and b":" in line:
                raw_names.append(line.split(b":", 1)[0].decode("ascii", "replace"))
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        try:
            body = msg.get_content()
        except Exception as e:  # a broken message is a test failure, not a server crash
            body = "UNDECODABLE: %s" % e
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "received_at": received_at,
            "raw_header_names": raw_names,
            "headers": [[k, str(v)] for k, v in msg.items()],
            "subject": str(msg.get("Subject", "")),
            "event_id": str(msg.get("X-Vmmanager-Event-Id", "")),
            "body": body,
            "tls": session.ssl is not None,
            "authenticated": bool(session.authenticated),
            "login": auth.login.decode() if isinstance(auth, LoginPassword) else None,
        }
        with open(base + ".json.tmp", "w") as f:
            json.dump(record, f)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 Message accepted for delivery"


def authenticator_for(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data)
    return authenticate


def context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


async def main():
    # A parent that spawned us from a thread with signals blocked (a Swift test runner) must still be able
    # to stop us with SIGTERM.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--smtps", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--auth", metavar="USER:PASSWORD")
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    handler = Capture(a.dir)
    kwargs = {"hostname": "smtp-capture.test", "enable_SMTPUTF8": True}
    if a.starttls:
        kwargs["tls_context"] = context(*a.starttls)
        kwargs["require_starttls"] = a.require_starttls
    if a.auth:
        user, password = a.auth.split(":", 1)
        kwargs["authenticator"] = authenticator_for(user, password)
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = bool(a.starttls or a.smtps)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, **kwargs), host=a.host, port=a.port,
                                      ssl=context(*a.smtps) if a.smtps else None)
    port = server.sockets[0].getsockname()[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(a.port_file + ".tmp", a.port_file)
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    loop.add_signal_handler(signal.SIGINT, stop.set_result, None)
    await stop
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
