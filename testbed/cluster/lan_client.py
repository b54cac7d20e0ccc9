#!/usr/bin/python3
"""The lab's users: a client on the guests' LAN that does what the thesis did by hand during its takeover
tests (ping and an open ssh session), as a program that keeps the figures.

    lan_client.py watch --status FILE IP...   ping every IP every 100 ms and keep a TCP session open to
                                              its echo service (port 7), sending a numbered line every
                                              100 ms; rewrite FILE (JSON) every 200 ms until SIGTERM
    lan_client.py uptime IP                   print the guest's /proc/uptime seconds (its port 8)

In FILE, per IP: `ping.gaps` — [last reply before, first reply after] of every stretch of more than
0.35 s without a reply (the second is null while it lasts), `ping.replies`, `ping.last_reply`; `tcp.sessions`
— each connection: `opened`, `closed` (null while open), `why`, `echoed` (lines that came back intact and in
order), `gaps` like the ping's, `first_echo`. A session that breaks is not hidden: it is closed with the
reason and a new one is tried every 0.5 s (the time a user would need to log in again). Times are
seconds since the epoch (time.time()), so that the scenarios can line them up with their own events.
"""
import json
import os
import select
import signal
import socket
import struct
import sys
import time

GAP = 0.35
PERIOD = 0.1


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


class Gaps:
    """Stretches without an answer longer than GAP."""

    def __init__(self):
        self.last = None
        self.list = []

    def hit(self, now):
        if self.last is not None and now - self.last > GAP:
            if self.list and self.list[-1][1] is None:
                self.list[-1][1] = now
            else:
                self.list.append([self.last, now])
        self.last = now

    def tick(self, now):
        if self.last is not None and now - self.last > GAP and not (self.list and self.list[-1][1] is None):
            self.list.append([self.last, None])

    def view(self):
        return [list(g) for g in self.list]


class Session:
    def __init__(self, ip, now):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.connect_ex((ip, 7))
        self.opened = now
        self.connected = None
        self.closed = None
        self.why = None
        self.sent = 0
        self.echoed = 0
        self.first_echo = None
        self.gaps = Gaps()
        self.buf = b""

    def close(self, now, why):
        if self.closed is None:
            self.closed = now
            self.why = why
            try:
                self.sock.close()
            except OSError:
                pass

    def view(self):
        return {"opened": self.opened, "connected": self.connected, "closed": self.closed, "why": self.why,
                "sent": self.sent, "echoed": self.echoed, "first_echo": self.first_echo,
                "last_echo": self.gaps.last, "gaps": self.gaps.view()}


class Target:
    def __init__(self, ip, ident):
        self.ip = ip
        self.ident = ident
        self.seq = 0
        self.replies = 0
        self.ping = Gaps()
        self.sessions = []
        self.next_connect = 0.0

    def session(self):
        return self.sessions[-1] if self.sessions and self.sessions[-1].closed is None else None


def watch(status_path, ips):
    icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    icmp.setblocking(False)
    base = os.getpid() & 0xFF00
    targets = [Target(ip, base + i) for i, ip in enumerate(ips)]
    by_ident = {t.ident: t for t in targets}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    started = time.time()
    next_tick = time.monotonic()
    next_write = 0.0

    def write():
        doc = {"started": started, "now": time.time(), "targets": {
            t.ip: {"ping": {"replies": t.replies, "last_reply": t.ping.last, "gaps": t.ping.view()},
                   "tcp": {"sessions": [s.view() for s in t.sessions]}} for t in targets}}
        tmp = status_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, status_path)

    while not stop:
        now_m = time.monotonic()
        now = time.time()
        if now_m >= next_tick:
            next_tick = now_m + PERIOD
            for t in targets:
                t.seq = (t.seq + 1) & 0xFFFF
                hdr = struct.pack("!BBHHH", 8, 0, 0, t.ident, t.seq)
                payload = struct.pack("!d", now)
                pkt = struct.pack("!BBHHH", 8, 0, checksum(hdr + payload), t.ident, t.seq) + payload
                try:
                    icmp.sendto(pkt, (t.ip, 0))
                except OSError:
                    pass  # no route / ARP failure while the guest is away: counted as a missing reply
                t.ping.tick(now)
                s = t.session()
                if s is None and now >= t.next_connect:
                    t.sessions.append(Session(t.ip, now))
                    t.next_connect = now + 0.5
                elif s is not None and s.connected is not None:
                    s.gaps.tick(now)
                    line = b"%s %d\n" % (t.ip.encode(), s.sent)
                    try:
                        s.sock.send(line)
                        s.sent += 1
                    except BlockingIOError:
                        pass  # send buffer full while the guest is away; the next tick tries again
                    except OSError as e:
                        s.close(now, "send: %s" % e.strerror)
                        t.next_connect = now + 0.5
                elif s is not None and now - s.opened > 2.0:
                    s.close(now, "connect timed out")
                    t.next_connect = now
        rlist = [icmp] + [t.session().sock for t in targets if t.session() is not None]
        wlist = [t.session().sock for t in targets if t.session() is not None and t.session().connected is None]
        timeout = max(0.0, next_tick - time.monotonic())
        try:
            r, w, _ = select.select(rlist, wlist, [], timeout)
        except InterruptedError:
            continue
        now = time.time()
        if icmp in r:
            while True:
                try:
                    data, addr = icmp.recvfrom(2048)
                except BlockingIOError:
                    break
                ihl = (data[0] & 0x0F) * 4
                typ, _, _, ident, _ = struct.unpack("!BBHHH", data[ihl:ihl + 8])
                t = by_ident.get(ident)
                if typ == 0 and t is not None and addr[0] == t.ip:
                    t.replies += 1
                    t.ping.hit(now)
        for t in targets:
            s = t.session()
            if s is None:
                continue
            if s.connected is None and s.sock in w:
                err = s.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    s.close(now, "connect: %s" % os.strerror(err))
                else:
                    s.connected = now
                continue
            if s.sock in r:
                try:
                    data = s.sock.recv(65536)
                except OSError as e:
                    s.close(now, "recv: %s" % e.strerror)
                    continue
                if not data:
                    s.close(now, "closed by the guest")
                    continue
                s.buf += data
                while b"\n" in s.buf:
                    line, s.buf = s.buf.split(b"\n", 1)
                    if line == b"%s %d" % (t.ip.encode(), s.echoed):
                        s.echoed += 1
                        if s.first_echo is None:
                            s.first_echo = now
                        s.gaps.hit(now)
                    else:
                        s.close(now, "echo out of order: %r" % line[:40])
                        break
        if time.monotonic() >= next_write:
            write()
            next_write = time.monotonic() + 0.2
    write()


def uptime(ip):
    with socket.create_connection((ip, 8), timeout=3) as s:
        s.settimeout(3)
        data = b""
        while True:
            chunk = s.recv(256)
            if not chunk:
                break
            data += chunk
    print(data.split()[0].decode())


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "watch" and sys.argv[2] == "--status":
        watch(sys.argv[3], sys.argv[4:])
    elif len(sys.argv) == 3 and sys.argv[1] == "uptime":
        uptime(sys.argv[2])
    else:
        sys.stderr.write(__doc__)
        sys.exit(64)


if __name__ == "__main__":
    main()
