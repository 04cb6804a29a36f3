#!/usr/bin/python3
"""Helper for scripts/capture-linux-golden.sh (run it through that script).

Subcommands:
  vlan-bpf DEV           attach 802.1Q VID 42 push (egress) / pop (ingress)
                         programs to DEV in the current network namespace
  traffic NS_A NS_B      socket traffic between the two namespaces
  vlan-traffic NS_A NS_B TCP connection over the 10.78.0.0/24 trunk
  extract MAIN VLAN OUT CMD
                         pick the golden packets from the two captures,
                         write OUT/*.hex and OUT/README.md
  verify OUT             re-read every OUT/*.hex and check format, decode
                         and checksums

Needs Debian's /usr/bin/python3 (scapy) and root.
"""

import ctypes
import os
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
import fcntl

# ---------------------------------------------------------------------------
# Addresses and ports shared with the shell script.

A4, B4 = '10.77.0.1', '10.77.0.2'
A6, B6 = 'fd77::1', 'fd77::2'
VA4, VB4 = '10.78.0.1', '10.78.0.2'
VLAN_ID = 42
PAYLOAD = b'hello synack\n'
UDP_PAYLOAD = b'synack udp probe\n'
SACK_BYTES = 200 * 1024
SACK_DROP_INDEX = 4   # the nth (0-based) data segment to port 5003 is dropped

P_TCP4 = (40001, 5001)
P_CLOSED = (40002, 5999)
P_UDP = (40003, 5999)
P_ABORT = (40004, 5002)
P_SACK = (40005, 5003)
P_TCP6 = (40061, 6001)
P_VLAN = (40042, 7001)

TIMEOUT = 5.0

libc = ctypes.CDLL(None, use_errno=True)


def die(msg):
    print('capture_linux_golden.py: error: ' + msg, file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------------------
# vlan-bpf: the kernel under test has no 802.1Q (CONFIG_VLAN_8021Q unset), so
# the VLAN tag is pushed by the kernel's own skb_vlan_push() called from a tcx
# egress program, and popped again on ingress.  Hand-assembled eBPF, loaded
# with the bpf(2) syscall so no compiler or libbpf is needed.

NR_BPF = {'x86_64': 321, 'aarch64': 280}
BPF_PROG_LOAD, BPF_PROG_ATTACH = 5, 8
BPF_PROG_TYPE_SCHED_CLS = 3
BPF_TCX_INGRESS, BPF_TCX_EGRESS = 46, 47
BPF_FUNC_skb_vlan_push, BPF_FUNC_skb_vlan_pop = 18, 19


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 160)
    nr = NR_BPF.get(os.uname().machine)
    if nr is None:
        die('bpf syscall number unknown for ' + os.uname().machine)
    r = libc.syscall(nr, cmd, buf, len(buf))
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def insn(code, dst=0, src=0, off=0, imm=0):
    return struct.pack('<BBhi', code, (src << 4) | dst, off, imm)


def bpf_load(insns):
    prog = b''.join(insns)
    pbuf = ctypes.create_string_buffer(prog, len(prog))
    lic = ctypes.create_string_buffer(b'GPL')
    log = ctypes.create_string_buffer(65536)
    attr = struct.pack('<IIQQIIQ', BPF_PROG_TYPE_SCHED_CLS, len(prog) // 8,
                       ctypes.addressof(pbuf), ctypes.addressof(lic),
                       1, len(log), ctypes.addressof(log))
    try:
        return bpf(BPF_PROG_LOAD, attr)
    except OSError:
        print(log.value.decode(errors='replace'), file=sys.stderr)
        raise


def cmd_vlan_bpf(dev):
    ifindex = socket.if_nametoindex(dev)
    mov_imm = 0xb7   # BPF_ALU64 | BPF_MOV | BPF_K
    call = 0x85      # BPF_JMP | BPF_CALL
    exit_ = 0x95     # BPF_JMP | BPF_EXIT
    # r1 = skb (ctx); r2 = htons(ETH_P_8021Q); r3 = VID; skb_vlan_push(); return TCX_PASS
    push = bpf_load([insn(mov_imm, 2, imm=socket.htons(0x8100)),
                     insn(mov_imm, 3, imm=VLAN_ID),
                     insn(call, imm=BPF_FUNC_skb_vlan_push),
                     insn(mov_imm, 0, imm=0),
                     insn(exit_)])
    # skb_vlan_pop() is a no-op for untagged frames
    pop = bpf_load([insn(call, imm=BPF_FUNC_skb_vlan_pop),
                    insn(mov_imm, 0, imm=0),
                    insn(exit_)])
    for fd, at in ((push, BPF_TCX_EGRESS), (pop, BPF_TCX_INGRESS)):
        bpf(BPF_PROG_ATTACH, struct.pack('<IIII', ifindex, fd, at, 0))
        os.close(fd)


# ---------------------------------------------------------------------------
# Socket traffic.  One process; sockets are created inside the right network
# namespace with setns(2) and keep that namespace afterwards.

CLONE_NEWNET = 0x40000000


def enter(ns):
    fd = os.open('/run/netns/' + ns, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, 'setns %s: %s' % (ns, os.strerror(e)))
    finally:
        os.close(fd)


def fam_of(addr):
    return socket.AF_INET6 if ':' in addr else socket.AF_INET


def listener(ns, addr, port):
    enter(ns)
    s = socket.socket(fam_of(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(4)
    s.settimeout(TIMEOUT)
    return s


def client(ns, addr, port, typ=socket.SOCK_STREAM):
    enter(ns)
    s = socket.socket(fam_of(addr), typ)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.settimeout(TIMEOUT)
    return s


def recv_exact(s, n):
    buf = b''
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            die('unexpected EOF')
        buf += chunk
    return buf


def wait_acked(s):
    """Bounded wait until every byte written to TCP socket s is acked."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        outq = struct.unpack('i', fcntl.ioctl(s.fileno(), termios.TIOCOUTQ, b'\0' * 4))[0]
        if outq == 0:
            return
        time.sleep(0.001)
    die('data not acknowledged in time')


def tcp_conversation(ns_a, ns_b, caddr, cport, saddr, sport):
    """handshake, one PSH|ACK data segment, client FIN, server FIN."""
    srv = listener(ns_b, saddr, sport)
    cli = client(ns_a, caddr, cport)
    cli.connect((saddr, sport))
    conn, _ = srv.accept()
    conn.settimeout(TIMEOUT)
    cli.sendall(PAYLOAD)
    if recv_exact(conn, len(PAYLOAD)) != PAYLOAD:
        die('payload mismatch')
    wait_acked(cli)
    cli.shutdown(socket.SHUT_WR)          # FIN|ACK from the client
    if conn.recv(1) != b'':
        die('expected EOF on server side')
    conn.close()                           # FIN|ACK from the server
    if cli.recv(1) != b'':
        die('expected EOF on client side')
    cli.close()
    srv.close()


def closed_port_syn(ns_a):
    cli = client(ns_a, A4, P_CLOSED[0])
    try:
        cli.connect((B4, P_CLOSED[1]))
    except ConnectionRefusedError:
        pass
    else:
        die('connect to closed port succeeded')
    cli.close()


def udp_closed_port(ns_a):
    u = client(ns_a, A4, P_UDP[0], socket.SOCK_DGRAM)
    u.connect((B4, P_UDP[1]))
    u.send(UDP_PAYLOAD)
    try:
        u.recv(100)           # the ICMP port unreachable surfaces as ECONNREFUSED
    except ConnectionRefusedError:
        pass
    else:
        die('no ICMP port unreachable for UDP probe')
    u.close()


def tcp_abort(ns_a, ns_b):
    srv = listener(ns_b, B4, P_ABORT[1])
    cli = client(ns_a, A4, P_ABORT[0])
    cli.connect((B4, P_ABORT[1]))
    conn, _ = srv.accept()
    conn.settimeout(TIMEOUT)
    cli.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    cli.close()               # RST from the client (abortive close)
    try:
        conn.recv(1)
    except ConnectionResetError:
        pass
    else:
        die('server did not see the RST')
    conn.close()
    srv.close()


def nft(ns, script):
    subprocess.run(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'],
                   input=script.encode(), check=True, timeout=TIMEOUT)


def tcp_sack(ns_a, ns_b, table):
    # Drop exactly one data segment (the SACK_DROP_INDEX-th) to port 5003 in
    # the receiver's namespace, so the receiver answers with SACK blocks.
    nft(ns_b, '''
table inet %s {
  chain input {
    type filter hook input priority 0; policy accept;
    ip daddr %s tcp dport %d ip length > 200 numgen inc mod 1000000 == %d counter drop
  }
}
''' % (table, B4, P_SACK[1], SACK_DROP_INDEX))
    srv = listener(ns_b, B4, P_SACK[1])
    cli = client(ns_a, A4, P_SACK[0])
    cli.connect((B4, P_SACK[1]))
    conn, _ = srv.accept()
    conn.settimeout(TIMEOUT)
    got = []

    def reader():
        n = 0
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            n += len(chunk)
        got.append(n)

    t = threading.Thread(target=reader)
    t.start()
    data = bytes((i * 7) & 0xff for i in range(SACK_BYTES))
    cli.sendall(data)
    cli.shutdown(socket.SHUT_WR)
    t.join(TIMEOUT * 2)
    if t.is_alive() or got != [SACK_BYTES]:
        die('bulk transfer for SACK did not complete: %r' % got)
    conn.close()
    cli.recv(1)
    cli.close()
    srv.close()
    out = subprocess.run(['ip', 'netns', 'exec', ns_b, 'nft', 'list', 'table', 'inet', table],
                         check=True, capture_output=True, timeout=TIMEOUT).stdout.decode()
    if 'packets 1 ' not in out:
        die('nft drop rule did not drop exactly one packet:\n' + out)
    subprocess.run(['ip', 'netns', 'exec', ns_b, 'nft', 'delete', 'table', 'inet', table],
                   check=True, timeout=TIMEOUT)


def cmd_traffic(ns_a, ns_b):
    udp_closed_port(ns_a)
    tcp_conversation(ns_a, ns_b, A4, P_TCP4[0], B4, P_TCP4[1])
    closed_port_syn(ns_a)
    tcp_abort(ns_a, ns_b)
    tcp_sack(ns_a, ns_b, 'synack_golden_%d' % os.getpid())
    tcp_conversation(ns_a, ns_b, A6, P_TCP6[0], B6, P_TCP6[1])


def cmd_vlan_traffic(ns_a, ns_b):
    tcp_conversation(ns_a, ns_b, VA4, P_VLAN[0], VB4, P_VLAN[1])


# ---------------------------------------------------------------------------
# Checksums, computed independently of scapy.

def ones_sum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def l4_ok(proto, pseudo_src, pseudo_dst, seg, v6):
    """True when the TCP/UDP/ICMP/ICMPv6 checksum of seg verifies."""
    if proto == 1:
        return ones_sum(seg) == 0xffff
    if v6:
        pseudo = pseudo_src + pseudo_dst + struct.pack('!IxxxB', len(seg), proto)
    else:
        pseudo = pseudo_src + pseudo_dst + struct.pack('!xBH', proto, len(seg))
    return ones_sum(pseudo + seg) == 0xffff


def own_checks(frame):
    """Independent checksum checks of one Ethernet frame.

    Returns a list of (what, ok) pairs and, for fragments, the fragment key.
    """
    res = []
    et = struct.unpack('!H', frame[12:14])[0]
    off = 14
    if et == 0x8100:
        et = struct.unpack('!H', frame[16:18])[0]
        off = 18
    if et == 0x0800:
        ihl = (frame[off] & 0x0f) * 4
        hdr = frame[off:off + ihl]
        res.append(('IPv4 header checksum', ones_sum(hdr) == 0xffff))
        tot = struct.unpack('!H', hdr[2:4])[0]
        fl = struct.unpack('!H', hdr[6:8])[0]
        proto = hdr[9]
        if fl & 0x3fff:
            return res, ('4', hdr[12:16], hdr[16:20], struct.unpack('!H', hdr[4:6])[0], proto)
        seg = frame[off + ihl:off + tot]
        if proto in (1, 6, 17):
            res.append(({1: 'ICMP', 6: 'TCP', 17: 'UDP'}[proto] + ' checksum',
                        l4_ok(proto, hdr[12:16], hdr[16:20], seg, False)))
        return res, None
    if et == 0x86dd:
        ip6 = frame[off:off + 40]
        plen = struct.unpack('!H', ip6[4:6])[0]
        nh = ip6[6]
        pos = off + 40
        end = pos + plen
        while nh in (0, 43, 60, 44):
            if nh == 44:
                fo = struct.unpack('!H', frame[pos + 2:pos + 4])[0]
                if fo & 0xfff9:   # offset != 0 or M set: checksum spans the datagram
                    ident = struct.unpack('!I', frame[pos + 4:pos + 8])[0]
                    return res, ('6', ip6[8:24], ip6[24:40], ident, frame[pos])
                nh = frame[pos]
                pos += 8
                continue
            nh, hl = frame[pos], (frame[pos + 1] + 1) * 8
            pos += hl
        if nh in (6, 17, 58):
            res.append(({6: 'TCP', 17: 'UDP', 58: 'ICMPv6'}[nh] + ' checksum',
                         l4_ok(nh, ip6[8:24], ip6[24:40], frame[pos:end], True)))
        return res, None
    return res, None


def reassembled_ok(frames, key):
    """Verify the upper-layer checksum of a fragmented datagram.

    Returns (ok, number of fragments, reassembled upper-layer length).
    """
    parts = {}
    total = None
    upper = None
    for f in frames:
        et = struct.unpack('!H', f[12:14])[0]
        if key[0] == '4' and et == 0x0800:
            ihl = (f[14] & 0x0f) * 4
            hdr = f[14:14 + ihl]
            if (hdr[12:16], hdr[16:20], struct.unpack('!H', hdr[4:6])[0], hdr[9]) != key[1:]:
                continue
            fl = struct.unpack('!H', hdr[6:8])[0]
            tot = struct.unpack('!H', hdr[2:4])[0]
            o = (fl & 0x1fff) * 8
            parts[o] = f[14 + ihl:14 + tot]
            if not fl & 0x2000:
                total = o + len(parts[o])
            upper = hdr[9]
        elif key[0] == '6' and et == 0x86dd and f[14 + 6] == 44:
            ip6 = f[14:54]
            fh = f[54:62]
            if (ip6[8:24], ip6[24:40], struct.unpack('!I', fh[4:8])[0], fh[0]) != key[1:]:
                continue
            plen = struct.unpack('!H', ip6[4:6])[0]
            fo = struct.unpack('!H', fh[2:4])[0]
            o = fo & 0xfff8
            parts[o] = f[62:54 + plen]
            if not fo & 1:
                total = o + len(parts[o])
            upper = fh[0]
    if total is None:
        return False, 0, 0
    data = b''
    while len(data) < total:
        if len(data) not in parts:
            return False, 0, 0
        data += parts[len(data)]
    return l4_ok(upper, key[1], key[2], data, key[0] == '6'), len(parts), total


# ---------------------------------------------------------------------------
# scapy based checks and decoding.

def scapy():
    import logging
    logging.getLogger('scapy.runtime').setLevel(logging.ERROR)
    import scapy.all as s
    return s


def scapy_checks(frame):
    """Delete the checksum fields, let scapy recompute them, compare."""
    s = scapy()
    p = s.Ether(frame)
    q = s.Ether(frame)
    what = []
    ip = q.getlayer(s.IP)
    ip6 = q.getlayer(s.IPv6)
    frag = False
    l4 = None
    if ip is not None and not isinstance(ip, s.IPerror):
        del ip.chksum
        what.append('IPv4 header')
        frag = bool(ip.flags.MF) or ip.frag > 0
        l4 = ip.payload
    elif ip6 is not None:
        l4 = ip6.payload
        while isinstance(l4, (s.IPv6ExtHdrHopByHop, s.IPv6ExtHdrDestOpt,
                              s.IPv6ExtHdrRouting, s.IPv6ExtHdrFragment)):
            if isinstance(l4, s.IPv6ExtHdrFragment):
                frag = True
            l4 = l4.payload
    if l4 is not None and not frag and not isinstance(l4, (s.NoPayload, s.Raw)):
        for f in ('chksum', 'cksum'):
            if f in l4.fields:
                delattr(l4, f)
                what.append(type(l4).__name__)
                break
    rebuilt = bytes(q)
    return what, rebuilt == bytes(p)


def tcpdump_decode(frame, ts, tmpdir):
    s = scapy()
    path = os.path.join(tmpdir, 'one.pcap')
    pkt = s.Ether(frame)
    pkt.time = ts
    s.wrpcap(path, [pkt], linktype=1)
    out = subprocess.run(['tcpdump', '-r', path, '-n', '-e', '-vvv'], capture_output=True,
                         timeout=TIMEOUT, check=True).stdout.decode()
    return [l.rstrip() for l in out.splitlines() if l.strip()]


# ---------------------------------------------------------------------------
# Facts for the README table.

def mac(b):
    return ':'.join('%02x' % x for x in b)


def tcp_flags(fl):
    names = [(0x01, 'FIN'), (0x02, 'SYN'), (0x04, 'RST'), (0x08, 'PSH'), (0x10, 'ACK'),
             (0x20, 'URG'), (0x40, 'ECE'), (0x80, 'CWR')]
    return '|'.join(n for b, n in names if fl & b) + ' (0x%02x)' % fl


def tcp_options(opt):
    out = []
    i = 0
    while i < len(opt):
        k = opt[i]
        if k == 0:
            out.append('EOL')
            break
        if k == 1:
            out.append('NOP')
            i += 1
            continue
        ln = opt[i + 1]
        v = opt[i + 2:i + ln]
        if k == 2:
            out.append('MSS %d' % struct.unpack('!H', v)[0])
        elif k == 3:
            out.append('WScale %d' % v[0])
        elif k == 4:
            out.append('SACK-permitted')
        elif k == 5:
            blocks = [struct.unpack('!II', v[j:j + 8]) for j in range(0, len(v), 8)]
            out.append('SACK ' + ' '.join('%d-%d' % b for b in blocks))
        elif k == 8:
            out.append('TS val %d ecr %d' % struct.unpack('!II', v))
        else:
            out.append('kind %d len %d' % (k, ln))
        i += ln
    return out


def tcp_facts(seg, ulen):
    sp, dp, seq, ack, offfl, win, ck, urg = struct.unpack('!HHIIHHHH', seg[:20])
    doff = (offfl >> 12) * 4
    fl = offfl & 0x1ff
    opts = tcp_options(seg[20:doff])
    pl = seg[doff:ulen]
    f = ['TCP %d > %d' % (sp, dp), 'seq %d' % seq, 'ack %d' % ack,
         'flags %s' % tcp_flags(fl), 'window %d' % win,
         'TCP header %d bytes (data offset %d)' % (doff, doff // 4),
         'TCP cksum 0x%04x' % ck]
    if urg:
        f.append('urg %d' % urg)
    f.append('options: ' + (', '.join(opts) if opts else 'none'))
    f.append('payload %d bytes' % len(pl) + (' %r' % pl if 0 < len(pl) <= 40 else ''))
    return f


def ipv4_options(opt):
    out = []
    i = 0
    while i < len(opt):
        k = opt[i]
        if k == 0:
            out.append('EOL')
            i += 1
            continue
        if k == 1:
            out.append('NOP')
            i += 1
            continue
        ln = opt[i + 1]
        v = opt[i + 2:i + ln]
        if k == 7:
            ptr = v[0]
            addrs = [socket.inet_ntoa(v[j:j + 4]) for j in range(1, ln - 2, 4)]
            out.append('RR (type 7) len %d ptr %d addrs [%s]' % (ln, ptr, ', '.join(addrs)))
        else:
            out.append('type %d len %d' % (k, ln))
        i += ln
    return out


def l3_facts(frame):
    f = ['frame %d bytes' % len(frame), 'dst %s' % mac(frame[0:6]), 'src %s' % mac(frame[6:12])]
    et = struct.unpack('!H', frame[12:14])[0]
    off = 14
    f.append('ethertype 0x%04x' % et)
    if et == 0x8100:
        tci = struct.unpack('!H', frame[14:16])[0]
        et = struct.unpack('!H', frame[16:18])[0]
        f.append('802.1Q PCP %d DEI %d VID %d' % (tci >> 13, (tci >> 12) & 1, tci & 0xfff))
        f.append('inner ethertype 0x%04x' % et)
        off = 18
    if et == 0x0806:
        htype, ptype, hl, pl, op = struct.unpack('!HHBBH', frame[off:off + 8])
        a = frame[off + 8:off + 28]
        f += ['ARP htype %d ptype 0x%04x hlen %d plen %d' % (htype, ptype, hl, pl),
              'op %d (%s)' % (op, {1: 'request', 2: 'reply'}.get(op, '?')),
              'sha %s spa %s' % (mac(a[0:6]), socket.inet_ntoa(a[6:10])),
              'tha %s tpa %s' % (mac(a[10:16]), socket.inet_ntoa(a[16:20]))]
        return f
    if et == 0x0800:
        h = frame[off:]
        ihl = (h[0] & 0x0f) * 4
        tot, ident, fl = struct.unpack('!HHH', h[2:8])
        flags = [n for b, n in ((0x4000, 'DF'), (0x2000, 'MF')) if fl & b]
        f += ['IPv4 IHL %d (%d bytes)' % (ihl // 4, ihl), 'tos 0x%02x' % h[1],
              'total length %d' % tot, 'id 0x%04x' % ident,
              'flags %s' % ('|'.join(flags) or 'none'),
              'frag offset %d (%d bytes)' % (fl & 0x1fff, (fl & 0x1fff) * 8),
              'ttl %d' % h[8], 'proto %d' % h[9],
              'hdr cksum 0x%04x' % struct.unpack('!H', h[10:12])[0],
              '%s > %s' % (socket.inet_ntoa(h[12:16]), socket.inet_ntoa(h[16:20]))]
        if ihl > 20:
            f.append('IP options: ' + ', '.join(ipv4_options(h[20:ihl])))
        seg = h[ihl:tot]
        if fl & 0x1fff:
            f.append('fragment payload %d bytes' % len(seg))
            return f
        return f + l4_facts(h[9], seg, fl & 0x2000 != 0)
    if et == 0x86dd:
        h = frame[off:]
        vtcfl, plen, nh, hlim = struct.unpack('!IHBB', h[:8])
        f += ['IPv6 traffic class 0x%02x flow label 0x%05x' % ((vtcfl >> 20) & 0xff, vtcfl & 0xfffff),
              'payload length %d' % plen, 'next header %d' % nh, 'hop limit %d' % hlim,
              '%s > %s' % (socket.inet_ntop(socket.AF_INET6, h[8:24]),
                           socket.inet_ntop(socket.AF_INET6, h[24:40]))]
        pos = 40
        end = 40 + plen
        frag_more = False
        while nh in (0, 43, 60, 44):
            if nh == 44:
                fo, ident = struct.unpack('!HI', h[pos + 2:pos + 8])
                f.append('Fragment header: next header %d, offset %d (%d bytes), M %d, id 0x%08x'
                         % (h[pos], fo >> 3, fo & 0xfff8, fo & 1, ident))
                if fo & 0xfff8:
                    f.append('fragment payload %d bytes' % (end - pos - 8))
                    return f
                frag_more = bool(fo & 1)
                nh = h[pos]
                pos += 8
                continue
            hl = (h[pos + 1] + 1) * 8
            name = {0: 'Hop-by-Hop Options', 43: 'Routing', 60: 'Destination Options'}[nh]
            opts = []
            i = pos + 2
            while i < pos + hl:
                t = h[i]
                if t == 0:
                    opts.append('Pad1')
                    i += 1
                    continue
                ln = h[i + 1]
                v = h[i + 2:i + 2 + ln]
                if t == 5:
                    opts.append('Router Alert value %d' % struct.unpack('!H', v)[0])
                elif t == 1:
                    opts.append('PadN len %d' % ln)
                else:
                    opts.append('type %d len %d' % (t, ln))
                i += 2 + ln
            f.append('%s header: next header %d, length %d bytes, options: %s'
                     % (name, h[pos], hl, ', '.join(opts)))
            nh = h[pos]
            pos += hl
        return f + l4_facts(nh, h[pos:end], frag_more)
    return f


def l4_facts(proto, seg, partial):
    if proto == 6:
        return tcp_facts(seg, len(seg))
    if proto == 17:
        sp, dp, ln, ck = struct.unpack('!HHHH', seg[:8])
        return ['UDP %d > %d' % (sp, dp), 'UDP length %d' % ln, 'UDP cksum 0x%04x' % ck,
                'payload %r' % seg[8:ln]]
    if proto == 1:
        t, c, ck = struct.unpack('!BBH', seg[:4])
        f = ['ICMP type %d code %d' % (t, c), 'ICMP cksum 0x%04x' % ck]
        if t in (0, 8):
            ident, sq = struct.unpack('!HH', seg[4:8])
            f += ['echo id 0x%04x seq %d' % (ident, sq),
                  'ICMP data %d bytes%s' % (len(seg) - 8, ' in this fragment' if partial else '')]
        elif t == 3:
            q = seg[8:]
            qihl = (q[0] & 0x0f) * 4
            sp, dp = struct.unpack('!HH', q[qihl:qihl + 4])
            f += ['quoted IPv4 %s > %s proto %d, quoted ports %d > %d, quoted %d bytes'
                  % (socket.inet_ntoa(q[12:16]), socket.inet_ntoa(q[16:20]), q[9], sp, dp, len(q))]
        return f
    if proto == 58:
        t, c, ck = struct.unpack('!BBH', seg[:4])
        f = ['ICMPv6 type %d code %d' % (t, c), 'ICMPv6 cksum 0x%04x' % ck]
        if t in (128, 129):
            ident, sq = struct.unpack('!HH', seg[4:8])
            f += ['echo id 0x%04x seq %d' % (ident, sq),
                  'ICMPv6 data %d bytes%s' % (len(seg) - 8, ' in this fragment' if partial else '')]
        elif t == 143:
            n = struct.unpack('!H', seg[6:8])[0]
            recs = []
            p = 8
            for _ in range(n):
                rt, aux, ns_ = seg[p], seg[p + 1], struct.unpack('!H', seg[p + 2:p + 4])[0]
                recs.append('type %d group %s' % (rt, socket.inet_ntop(socket.AF_INET6, seg[p + 4:p + 20])))
                p += 20 + 16 * ns_ + 4 * aux
            f += ['MLDv2 report, %d record(s): %s' % (n, '; '.join(recs))]
        return f
    return ['upper-layer protocol %d, %d bytes' % (proto, len(seg))]


# ---------------------------------------------------------------------------
# extract

DESCRIPTIONS = {
    'tcp4_syn': 'TCP SYN over IPv4, 10.77.0.1:40001 -> 10.77.0.2:5001, sent by a Linux connect() with default options (MSS, SACK-permitted, timestamps, NOP, window scale).',
    'tcp4_synack': 'TCP SYN|ACK over IPv4 from the Linux listener 10.77.0.2:5001 answering tcp4_syn.',
    'tcp4_ack': 'Third segment of the handshake (pure ACK) from 10.77.0.1:40001 answering tcp4_synack.',
    'tcp4_data': "TCP PSH|ACK data segment 10.77.0.1:40001 -> 10.77.0.2:5001 with payload 'hello synack\\n' (13 bytes) from send() on the connection of tcp4_syn.",
    'tcp4_fin': 'TCP FIN|ACK from 10.77.0.1:40001 after shutdown(SHUT_WR), once the data of tcp4_data was acknowledged.',
    'tcp4_syn_closed_port': 'TCP SYN over IPv4 from 10.77.0.1:40002 to 10.77.0.2:5999 where nobody listens (connect() to a closed port).',
    'tcp4_rst_closed_port': 'TCP RST|ACK that Linux (10.77.0.2) sends in answer to tcp4_syn_closed_port (closed port 5999).',
    'tcp4_rst_abort': 'TCP RST|ACK that Linux sends when the application closes an established connection (10.77.0.1:40004 -> 10.77.0.2:5002, no data) with SO_LINGER {1,0}.',
    'tcp4_sack': 'TCP ACK with a SACK option from receiver 10.77.0.2:5003 to sender 10.77.0.1:40005 during a 200 KiB bulk transfer; one data segment was dropped by an nftables rule (numgen inc) in the receiver namespace; first ACK carrying SACK blocks.',
    'tcp6_syn': 'TCP SYN over IPv6, [fd77::1]:40061 -> [fd77::2]:6001, from a Linux connect() with default options.',
    'tcp6_synack': 'TCP SYN|ACK over IPv6 from the Linux listener [fd77::2]:6001 answering tcp6_syn.',
    'tcp6_data': "TCP PSH|ACK data segment over IPv6 [fd77::1]:40061 -> [fd77::2]:6001 with payload 'hello synack\\n' (13 bytes).",
    'arp_request': 'Broadcast ARP request who-has 10.77.0.2 tell 10.77.0.1, sent by Linux before the first ping (neighbour resolution).',
    'arp_reply': 'ARP reply 10.77.0.2 is-at 02:77:00:00:00:02 answering arp_request.',
    'icmp4_echo_request': 'ICMP echo request 10.77.0.1 -> 10.77.0.2 from `ping -c 1` (56 data bytes, iputils raw socket).',
    'icmp4_echo_reply': 'ICMP echo reply generated by the Linux stack of 10.77.0.2 answering icmp4_echo_request.',
    'ipv4_options': 'IPv4 packet with options (IHL > 5): ICMP echo request from `ping -c 1 -R 10.77.0.2` (Record Route option, 10.77.0.1 already recorded by the kernel).',
    'ipv4_frag_first': 'First IPv4 fragment (MF set, offset 0) of the ICMP echo request from `ping -c 1 -s 3000 10.77.0.2` over MTU 1500, fragmented by the kernel.',
    'ipv4_frag_last': 'Last IPv4 fragment (MF clear, offset > 0) of the same `ping -s 3000` echo request as ipv4_frag_first.',
    'ipv6_frag_first': 'First IPv6 fragment (Fragment extension header, offset 0, M set) of the ICMPv6 echo request from `ping -6 -c 1 -s 3000 fd77::2`.',
    'ipv6_hopbyhop': 'IPv6 packet with a Hop-by-Hop Options header (Router Alert): MLDv2 listener report sent by Linux (fe80::77:ff:fe00:1) when the veth link came up.',
    'udp4_closed_port': "UDP datagram 10.77.0.1:40003 -> 10.77.0.2:5999 (closed port), payload 'synack udp probe\\n', sent from a connected UDP socket.",
    'icmp4_port_unreachable': 'ICMP destination unreachable, port unreachable (type 3 code 3), sent by Linux 10.77.0.2 for udp4_closed_port; quotes the whole offending datagram.',
    'vlan_tcp4_syn': 'TCP SYN 10.78.0.1:40042 -> 10.78.0.2:7001 carried in an 802.1Q frame, VID 42, captured on the tagged veth; the tag was inserted by the kernel (skb_vlan_push from a tcx egress program, see README).',
}
ORDER = list(DESCRIPTIONS)


def load_pcap(path):
    s = scapy()
    return [(bytes(p), float(p.time)) for p in s.rdpcap(path)]


def select(main, vlan):
    s = scapy()
    picked = {}

    def tcp_pkts(pkts, sport, dport):
        for i, (raw, ts) in enumerate(pkts):
            p = s.Ether(raw)
            t = p.getlayer(s.TCP)
            if t is not None and t.sport == sport and t.dport == dport:
                yield i, raw, ts, p, t

    def first(name, pkts, sport, dport, pred, after=-1):
        for i, raw, ts, p, t in tcp_pkts(pkts, sport, dport):
            if i > after and pred(p, t):
                picked[name] = (raw, ts)
                return i
        die('no packet found for ' + name)

    F = lambda t: int(t.flags)
    SYN, ACK, PSH, FIN, RST = 0x02, 0x10, 0x08, 0x01, 0x04

    for fam, ip_l, prefix, ports in ((4, s.IP, 'tcp4', P_TCP4), (6, s.IPv6, 'tcp6', P_TCP6)):
        c, sv = ports
        i = first(prefix + '_syn', main, c, sv, lambda p, t: ip_l in p and F(t) == SYN)
        i = first(prefix + '_synack', main, sv, c, lambda p, t: F(t) == SYN | ACK, i)
        if fam == 4:
            first('tcp4_ack', main, c, sv, lambda p, t: F(t) == ACK and len(t.payload) == 0, i)
        first(prefix + '_data', main, c, sv,
              lambda p, t: F(t) == PSH | ACK and bytes(t.payload) == PAYLOAD, i)
        if fam == 4:
            first('tcp4_fin', main, c, sv, lambda p, t: F(t) == FIN | ACK, i)
    i = first('tcp4_syn_closed_port', main, *P_CLOSED, lambda p, t: F(t) == SYN)
    first('tcp4_rst_closed_port', main, P_CLOSED[1], P_CLOSED[0], lambda p, t: F(t) & RST, i)
    first('tcp4_rst_abort', main, *P_ABORT, lambda p, t: F(t) & RST)

    def has_sack(t):
        return any(o[0] == 'SAck' for o in t.options)
    first('tcp4_sack', main, P_SACK[1], P_SACK[0], lambda p, t: F(t) == ACK and has_sack(t))
    first('vlan_tcp4_syn', vlan, *P_VLAN,
          lambda p, t: s.Dot1Q in p and p[s.Dot1Q].vlan == VLAN_ID and F(t) == SYN)

    def first_other(name, pkts, pred, after=-1):
        for i, (raw, ts) in enumerate(pkts):
            if i > after and pred(s.Ether(raw)):
                picked[name] = (raw, ts)
                return i
        die('no packet found for ' + name)

    i = first_other('arp_request', main, lambda p: s.ARP in p and p[s.ARP].op == 1
                    and p.dst == 'ff:ff:ff:ff:ff:ff' and p[s.ARP].psrc == A4 and p[s.ARP].pdst == B4)
    first_other('arp_reply', main, lambda p: s.ARP in p and p[s.ARP].op == 2
                and p[s.ARP].psrc == B4 and p[s.ARP].pdst == A4, i)

    def plain_icmp(p, typ, src):
        return (s.IP in p and p[s.IP].src == src and p[s.IP].ihl == 5 and p[s.IP].proto == 1
                and p[s.IP].flags.MF == 0 and p[s.IP].frag == 0 and p[s.IP].len == 84
                and s.ICMP in p and p[s.ICMP].type == typ)
    i = first_other('icmp4_echo_request', main, lambda p: plain_icmp(p, 8, A4))
    req = s.Ether(picked['icmp4_echo_request'][0])[s.ICMP]
    first_other('icmp4_echo_reply', main, lambda p: plain_icmp(p, 0, B4)
                and p[s.ICMP].id == req.id and p[s.ICMP].seq == req.seq, i)
    first_other('ipv4_options', main, lambda p: s.IP in p and p[s.IP].src == A4
                and p[s.IP].ihl > 5 and s.ICMP in p and p[s.ICMP].type == 8)
    i = first_other('ipv4_frag_first', main, lambda p: s.IP in p and p[s.IP].src == A4
                    and p[s.IP].proto == 1 and p[s.IP].flags.MF and p[s.IP].frag == 0)
    fid = s.Ether(picked['ipv4_frag_first'][0])[s.IP].id
    first_other('ipv4_frag_last', main, lambda p: s.IP in p and p[s.IP].src == A4
                and p[s.IP].id == fid and not p[s.IP].flags.MF and p[s.IP].frag > 0, i)
    first_other('ipv6_frag_first', main, lambda p: s.IPv6ExtHdrFragment in p
                and p[s.IPv6].src == A6 and p[s.IPv6ExtHdrFragment].offset == 0
                and p[s.IPv6ExtHdrFragment].m == 1)
    # prefer the report sent by our own side (namespace A) at link-up
    # the first Hop-by-Hop packet (MLDv2 report) namespace A sent at link-up
    first_other('ipv6_hopbyhop', main, lambda p: s.IPv6 in p and p[s.IPv6].nh == 0
                and p.src == '02:77:00:00:00:01' and p[s.IPv6].src == 'fe80::77:ff:fe00:1'
                and s.ICMPv6MLReport2 in p)
    i = first_other('udp4_closed_port', main, lambda p: s.UDP in p and s.ICMP not in p
                    and p[s.UDP].sport == P_UDP[0] and p[s.UDP].dport == P_UDP[1])
    first_other('icmp4_port_unreachable', main, lambda p: s.ICMP in p and p[s.IP].src == B4
                and p[s.ICMP].type == 3 and p[s.ICMP].code == 3, i)
    return picked


def hex_lines(raw):
    return [' '.join('%02x' % b for b in raw[i:i + 16]) for i in range(0, len(raw), 16)]


def check_frame(name, raw, all_frames):
    own, fragkey = own_checks(raw)
    what, ok = scapy_checks(raw)
    if not ok:
        die('%s: scapy recomputed checksums (%s) differ from the captured ones' % (name, ', '.join(what)))
    for w, good in own:
        if not good:
            die('%s: %s is wrong' % (name, w))
    notes = [w for w, _ in own]
    facts = []
    if fragkey is not None:
        if all_frames is not None:
            ok, nfrag, total = reassembled_ok(all_frames, fragkey)
            if not ok:
                die('%s: upper-layer checksum of the reassembled datagram is wrong' % name)
            notes.append('upper-layer checksum of the reassembled datagram (all fragments in the capture)')
            facts.append('whole datagram: %d fragments, reassembled %s message %d bytes, its checksum '
                         'verified over the reassembly' % (nfrag, 'ICMP' if fragkey[0] == '4' else 'ICMPv6', total))
        else:
            notes.append('(fragment: upper-layer checksum spans the whole datagram)')
    return notes, facts


def cmd_extract(main_pcap, vlan_pcap, outdir, command):
    import tempfile
    main = load_pcap(main_pcap)
    vlan = load_pcap(vlan_pcap)
    picked = select(main, vlan)
    all_frames = [r for r, _ in main] + [r for r, _ in vlan]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ORDER:
            raw, ts = picked[name]
            notes, extra = check_frame(name, raw, all_frames)
            decode = tcpdump_decode(raw, ts, tmp)
            if any('incorrect' in l or 'bad cksum' in l for l in decode):
                die('%s: tcpdump reports a bad checksum:\n%s' % (name, '\n'.join(decode)))
            text = ['# ' + DESCRIPTIONS[name], '# tcpdump: ' + decode[0]]
            text += ['# ' + l for l in decode[1:]]
            text += hex_lines(raw)
            with open(os.path.join(outdir, name + '.hex'), 'w') as fh:
                fh.write('\n'.join(text) + '\n')
            rows.append((name, DESCRIPTIONS[name], l3_facts(raw) + extra))
            print('%-24s %4d bytes  checksums ok: %s' % (name, len(raw), '; '.join(notes)))
    write_readme(outdir, rows, command)


def write_readme(outdir, rows, command):
    kernel = os.uname().release
    td = subprocess.run(['tcpdump', '--version'], capture_output=True).stdout.decode().splitlines()
    md = []
    md.append('# Linux golden packets')
    md.append('')
    md.append('Real Ethernet frames emitted by the Linux kernel network stack, captured with')
    md.append('tcpdump on veth pairs between two network namespaces, one frame per `.hex` file.')
    md.append('They are known-answer data for the packet parser and checksum tests.')
    md.append('')
    md.append('## How they were made')
    md.append('')
    md.append('```')
    md.append(command)
    md.append('```')
    md.append('')
    md.append('- Kernel of the capture (`uname -r`): `%s`' % kernel)
    md.append('- Capture tool: %s' % ', '.join(td[:2]))
    md.append('- ping: %s' % subprocess.run(['ping', '-V'], capture_output=True).stdout.decode().splitlines()[0])
    md.append('- The script creates two network namespaces (A and B, names suffixed with the script\'s PID)')
    md.append('  joined by a veth pair: A has MAC 02:77:00:00:00:01, 10.77.0.1/24, fd77::1/64;')
    md.append('  B has MAC 02:77:00:00:00:02, 10.77.0.2/24, fd77::2/64 (IPv6 with `nodad`, DAD off on')
    md.append('  the veths, router solicitations off). MTU 1500. tcpdump runs in A on A\'s veth and sees')
    md.append('  both directions. All traffic stays between the two namespaces; everything is removed on exit.')
    md.append('- **TX checksum offload was off** (`ethtool -K DEV tx off`) on both ends of every veth, so')
    md.append('  every checksum in these files is complete and correct (the script verifies every IPv4')
    md.append('  header, TCP, UDP, ICMP and ICMPv6 checksum twice: an own ones\'-complement sum and a')
    md.append('  scapy recomputation; for fragments the upper-layer checksum is verified over the')
    md.append('  datagram reassembled from all fragments in the capture; tcpdump -vvv reports them correct).')
    md.append('- Socket programs: `scripts/capture_linux_golden.py` (Debian /usr/bin/python3). Fixed ports')
    md.append('  (client ports set with bind()), fixed MACs and addresses, so reruns differ only in ISNs,')
    md.append('  TCP timestamps, IP/ICMP/fragment ids, ping payload timestamps and capture times.')
    md.append('- veth does not pad short frames: ARP frames are 42 bytes (46 with the VLAN tag), there is')
    md.append('  no padding to 60 bytes and no FCS in any file.')
    md.append('- VLAN: this kernel is built without 802.1Q support (`CONFIG_VLAN_8021Q` is not set, no')
    md.append('  modules), so no vlan sub-interface could be created. Instead a second veth pair (the')
    md.append('  "trunk", MACs 02:78:00:00:00:01/02, 10.78.0.1/24 and 10.78.0.2/24, IPv6 disabled,')
    md.append('  tx checksum and tx VLAN offload off) carries only VLAN 42: a tiny tcx egress eBPF program')
    md.append('  on each end calls the kernel\'s `skb_vlan_push(ETH_P_8021Q, 42)` (the same kernel')
    md.append('  function the vlan driver and `act_vlan` use) and a tcx ingress program pops the tag.')
    md.append('  IP and TCP are built by the normal Linux stack; tcpdump on the trunk veth sees the tag.')
    md.append('- The comment lines of every file are the decode of the frame by `tcpdump -r FILE -n -e -vvv`')
    md.append('  on a one-packet pcap (so seq/ack are absolute; the time is the capture time, UTC).')
    md.append('  Note that tcpdump prints SACK block edges relative to the ack number (`sack 1 {1449:2897}`);')
    md.append('  the table below gives the absolute values that are in the bytes.')
    md.append('- TCP: this kernel offers window scale 10 in its SYN and SYN-ACK, so the window field of')
    md.append('  later segments is the scaled-down value (e.g. 63 means 63 << 10 bytes).')
    md.append('  `tcp4_sack`: the segment starting at the ack number was dropped, the SACK block covers the')
    md.append('  next full-sized segment (1448 bytes = MSS 1460 minus 12 bytes of timestamps option).')
    md.append('- Fragments: `ping -s 3000` sends 3008 bytes of ICMP (8 header + 3000 data); IPv4 splits it')
    md.append('  into 3 fragments (1480 + 1480 + 48 bytes of payload, only the first and the last are stored),')
    md.append('  IPv6 into 3 fragments of 1448 + 1448 + 112 bytes (only the first is stored). The ICMP/ICMPv6')
    md.append('  checksum in the first fragment covers the whole reassembled message.')
    md.append('')
    md.append('File format: lines starting with `#` are comments; every other line holds the frame as')
    md.append('lowercase hex bytes, 16 per line, separated by single spaces, starting at the destination MAC.')
    md.append('')
    md.append('## Files')
    md.append('')
    md.append('Numbers are decimal unless written 0x...; seq/ack are absolute.')
    md.append('')
    md.append('| file | what it is | key facts |')
    md.append('|---|---|---|')
    for name, desc, facts in rows:
        md.append('| `%s.hex` | %s | %s |' % (name, desc.replace('|', '\\|'),
                                            '; '.join(facts).replace('|', '\\|')))
    md.append('')
    with open(os.path.join(outdir, 'README.md'), 'w') as fh:
        fh.write('\n'.join(md))


# ---------------------------------------------------------------------------
# verify: independent re-read of the files.

def read_hex(path):
    comments, data = [], []
    with open(path) as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip('\n')
            if line.startswith('#'):
                comments.append(line)
                continue
            toks = line.split(' ')
            if not (1 <= len(toks) <= 16) or any(len(t) != 2 or t != t.lower() for t in toks):
                die('%s:%d: bad hex line %r' % (path, n, line))
            data += [int(t, 16) for t in toks]
    return comments, bytes(data)


def cmd_verify(outdir):
    import tempfile
    names = sorted(f[:-4] for f in os.listdir(outdir) if f.endswith('.hex'))
    if sorted(names) != sorted(ORDER):
        die('unexpected set of .hex files: %s' % names)
    with tempfile.TemporaryDirectory() as tmp:
        for name in ORDER:
            comments, raw = read_hex(os.path.join(outdir, name + '.hex'))
            if len(comments) < 2 or not comments[1].startswith('# tcpdump: '):
                die('%s: bad comment header' % name)
            decode = tcpdump_decode(raw, 0, tmp)
            want = [comments[1][len('# tcpdump: '):]] + [c[2:] for c in comments[2:]]
            strip = lambda l: l.split(' ', 1)[1] if l[:1].isdigit() else l
            if [strip(l) for l in want] != [strip(l) for l in decode]:
                die('%s: tcpdump decode of the hex differs from the comment:\n%s\n---\n%s'
                    % (name, '\n'.join(want), '\n'.join(decode)))
            notes, _ = check_frame(name, raw, None)
            print('%-24s ok (%s)' % (name, '; '.join(notes)))


def main():
    if len(sys.argv) < 2:
        die(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == 'vlan-bpf' and len(args) == 1:
        cmd_vlan_bpf(*args)
    elif cmd == 'traffic' and len(args) == 2:
        cmd_traffic(*args)
    elif cmd == 'vlan-traffic' and len(args) == 2:
        cmd_vlan_traffic(*args)
    elif cmd == 'extract' and len(args) == 4:
        cmd_extract(*args)
    elif cmd == 'verify' and len(args) == 1:
        cmd_verify(*args)
    else:
        die('bad arguments\n' + __doc__)


if __name__ == '__main__':
    main()
