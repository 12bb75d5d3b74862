#!/usr/bin/env python3
"""Each Redis request's time on the wire, from a loopback capture.

Reads `tshark -T fields` lines (stream, epoch time, destination port, payload in hex) on stdin,
splits each TCP stream's bytes into RESP commands (client to server) and replies (server to
client), and pairs the i-th command of a stream with its i-th reply (Redis answers in order).
A command's time is the capture time of the segment that completed it; its reply's, of the
segment that completed the reply. Prints one pair per line, in capture order: the request's
capture time (seconds since the epoch) and its latency in nanoseconds.

    tshark -r cap.pcap -Y 'tcp.len > 0' -T fields -E separator=, \\
        -e tcp.stream -e frame.time_epoch -e tcp.dstport -e tcp.payload | wire_pairs.py PORT
"""

import sys
from collections import defaultdict


def resp_end(buf: bytes, at: int):
    """The end of the RESP value starting at `at`, or None while it is incomplete."""
    line_end = buf.find(b"\r\n", at)
    if line_end < 0:
        return None
    kind, head = buf[at:at + 1], buf[at + 1:line_end]
    after = line_end + 2
    if kind in (b"+", b"-", b":", b"_", b",", b"#", b"("):
        return after
    if kind in (b"$", b"!", b"="):
        n = int(head)
        if n < 0:
            return after
        end = after + n + 2
        return end if end <= len(buf) else None
    if kind in (b"*", b"%", b"~", b">", b"|"):
        n = int(head)
        if kind in (b"%", b"|"):
            n *= 2
        for _ in range(max(n, 0)):
            nxt = resp_end(buf, after)
            if nxt is None:
                return None
            after = nxt
        return after
    # An inline command (`PING\r\n`): one line.
    return after


class Direction:
    """One direction of one stream: bytes not yet parsed, and the times values completed."""

    def __init__(self):
        self.buf = b""
        self.times = []

    def feed(self, data: bytes, t: float):
        self.buf += data
        at = 0
        while at < len(self.buf):
            end = resp_end(self.buf, at)
            if end is None:
                break
            self.times.append(t)
            at = end
        self.buf = self.buf[at:]


def main():
    port = sys.argv[1]
    requests = defaultdict(Direction)
    replies = defaultdict(Direction)
    for line in sys.stdin:
        parts = line.strip().split(",")
        if len(parts) < 4 or not parts[3]:
            continue
        stream, t, dport, payload = parts[0], float(parts[1]), parts[2], parts[3]
        data = bytes.fromhex(payload.replace(":", ""))
        (requests if dport == port else replies)[stream].feed(data, t)
    out = []
    for stream, req in requests.items():
        rep = replies.get(stream)
        if rep is None:
            continue
        for sent, answered in zip(req.times, rep.times):
            out.append((sent, int(round((answered - sent) * 1e9))))
    out.sort()
    sys.stdout.write("".join(f"{sent:.6f} {ns}\n" for sent, ns in out))


if __name__ == "__main__":
    main()
