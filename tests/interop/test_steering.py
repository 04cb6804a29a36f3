"""Two run loops on one port (docs/design.md "Steering"): each connection lives
on the loop its Toeplitz hash names, whatever queue its packets arrive on.
- one RX queue (AF_PACKET without fanout, TAP): loop 0 receives everything
  and passes loop 1's packets over an SPSC ring; loop 1 hands its frames to
  loop 0's TX queue;
- AF_PACKET with qpairs=2: the kernel's fanout hash, not Toeplitz, picks
  the queue, so packets often arrive at the other loop and are passed on.
Linux is the peer; every stream is checked and every mbuf must come back."""
from conftest import run_client
from test_active_open import finish, start_linux_echo


def both_loops_served(s):
    loops = s["per_loop"]
    assert len(loops) == 2 and s["loops"] == 2
    assert all(l["connections_opened"] > 0 for l in loops), loops
    assert s["steering"]["ring_full"] == 0


def test_two_loops_on_one_queue_steer_in_software(link, bench):
    b = bench("--mode", "echo", lcores="0-1")
    r = link.peer("many", 5001, 200, timeout=120)
    assert r["ok"] and r["connections"] == 200
    assert link.peer("echo", 5001, 1 << 20)["ok"]
    assert link.peer("ping", 0)["ok"]
    assert b.wait_connections(0)
    s = b.stop()
    assert s["accepted"] == 201
    assert s["steering"]["mode"] == "software"
    both_loops_served(s)
    # Loop 1 has no queue: all it got came over the ring, all it sent went back.
    assert s["per_loop"][1]["rx"] == 0
    assert s["steering"]["passed"] == s["steering"]["taken"] > 0
    assert s["steering"]["tx_handed_off"] > 0
    assert s["steering"]["arp_copies"] >= 1  # each loop learns Linux's address


def test_two_loops_on_af_packet_fanout_agree_on_owners(link, bench):
    b = bench("--mode", "echo", lcores="0-1", vdev=f"net_af_packet0,iface={link.host_if},qpairs=2")
    r = link.peer("many", 5001, 200, timeout=120)
    assert r["ok"] and r["connections"] == 200
    assert b.wait_connections(0)
    s = b.stop()
    assert s["steering"]["mode"] == "software"  # AF_PACKET reports no RSS of its own
    both_loops_served(s)
    # Both queues received, and the fanout's choice differed from ours for
    # some connections (each has even odds): those were passed on.
    assert all(l["rx"] > 0 for l in s["per_loop"])
    assert s["steering"]["passed"] > 0
    assert s["steering"]["tx_handed_off"] == 0  # a TX queue each


def test_two_loops_over_tap(link, bench):
    b = bench("--mode", "echo", lcores="0-1", vdev=f"net_tap0,iface={link.tap_if()}")
    link.attach_tap()
    r = link.peer("many", 5001, 100, timeout=120)
    assert r["ok"] and r["connections"] == 100
    assert b.wait_connections(0)
    s = b.stop()
    both_loops_served(s)


def test_active_open_from_two_loops_picks_ports_that_come_back(link, request):
    # Each loop's connect() takes only ephemeral ports whose replies hash to
    # it, so nothing it opened should need a second look.
    server = start_linux_echo(link, 7003, 16, 256 << 10, close_first=False)
    rc, s, out = run_client(request.config.getoption("--bench"), link, "--connect", f"{link.peer_ip}:7003",
                            "--connections", "16", "--bytes", str(256 << 10), lcores="0-1")
    assert rc == 0, out
    assert s["completed"] == 16 and s["echo_errors"] == 0
    both_loops_served(s)
    # One RX queue: loop 1's replies all came to loop 0 and were passed on.
    assert s["steering"]["passed"] > 0
    finish(server)


def test_one_loop_polls_every_fanout_queue(link, bench):
    # AF_PACKET's sockets receive from the kernel's fanout whether or not a
    # loop polls them: with qpairs=2 and one loop, that loop polls both.
    b = bench("--mode", "echo", vdev=f"net_af_packet0,iface={link.host_if},qpairs=2")
    r = link.peer("many", 5001, 64, timeout=120)
    assert r["ok"] and r["connections"] == 64
    assert b.wait_connections(0)
    s = b.stop()
    assert s["accepted"] == 64 and s["loops"] == 1
    assert s["steering"]["mode"] == "single" and s["steering"]["passed"] == 0
