"""Protection over real TCP/TLS: PROXY protocol, bans (IP + wallet, shared through a real Redis), abuse,
rate limits, connection caps, floods and slowloris next to an honest miner, TLS, share trust.

Loopback is never banned, so clients that must be bannable come through a trusted "balancer" (the test
itself, on 127.0.0.1) with a PROXY header naming a documentation address as the real client.
"""

from __future__ import annotations

import contextlib
import gc
import json
import ssl
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from stratum_fakes import (
    ADDRESS,
    OTHER_ADDRESS,
    TEST_LIMITS,
    VARDIFF,
    Pool,
    PoolFactory,
    StratumClient,
    TrustingFakeJudge,
    find_share,
    wait_until,
)
from stratum_support import client_tls_context, host_address

from athena_pool.storage.bans_store import BanRecord, BanScope, BanStore
from athena_pool.stratum import (
    BanRules,
    ConnectionCaps,
    PortConfig,
    ProtectionSettings,
    ProxyMode,
    ProxySettings,
    Rate,
    RateLimits,
    TlsSettings,
    TrustSettings,
)
from athena_pool.stratum import proxy_protocol as pp

CLIENT = "203.0.113.7"
OTHER_CLIENT = "203.0.113.99"
BALANCER_FRONT = ("198.51.100.2", 3333)


def proxy_ports(mode: ProxyMode = ProxyMode.OPTIONAL, **extra: Any) -> tuple[PortConfig, ...]:
    return (
        PortConfig(0, difficulty=100, vardiff=VARDIFF, host="127.0.0.1", proxy_protocol=mode, **extra),
        PortConfig(0, difficulty=100, vardiff=VARDIFF, host="127.0.0.1", proxy_protocol=ProxyMode.MANDATORY),
    )


def protection(**bans: Any) -> ProtectionSettings:
    rules = BanRules(check_threshold=10, invalid_percent=25, **bans)
    return ProtectionSettings(bans=rules)


async def proxy_pool(make_pool: PoolFactory, **settings: Any) -> Pool:
    settings.setdefault("ports", proxy_ports())
    settings.setdefault("proxy", ProxySettings(trusted=("127.0.0.1",), header_timeout=0.5))
    return await make_pool(**settings)


async def via_proxy(
    port: int, client_ip: str = CLIENT, *, version: int = 1, source: str = "127.0.0.1", tlvs: bytes = b""
) -> StratumClient:
    client = (client_ip, 40000)
    header = (
        pp.v1_header(client, BALANCER_FRONT)
        if version == 1
        else pp.v2_header(client, BALANCER_FRONT, tlvs=tlvs)
    )
    return await StratumClient.connect(port, source=source, preamble=header)


async def logged_in(client: StratumClient, login: str = ADDRESS, **params: Any) -> tuple[str, dict[str, Any]]:
    reply = await client.login(login, **params)
    assert reply["error"] is None, reply
    return reply["result"]["id"], reply["result"]["job"]


async def submit(client: StratumClient, session_id: str, job: dict[str, Any], nonce: str, result: str) -> Any:
    return await client.call(
        "submit", {"id": session_id, "job_id": job["job_id"], "nonce": nonce, "result": result}
    )


async def good_share(client: StratumClient, session_id: str, job: dict[str, Any], start: int) -> Any:
    nonce, result = find_share(job, 100, start)
    return await submit(client, session_id, job, nonce, result)


def message(reply: dict[str, Any]) -> str:
    assert reply["error"] is not None, reply
    text: str = reply["error"]["message"]
    return text


def session_from(pool: Pool, ip: str) -> Any:
    sessions = pool.server.registry.from_ip(ip)
    assert len(sessions) == 1, sessions
    return sessions[0]


# --- PROXY protocol -----------------------------------------------------------------------------------------


async def test_proxy_v1_and_v2_give_the_real_client_address(make_pool: PoolFactory) -> None:
    pool = await proxy_pool(make_pool)
    v1 = await via_proxy(pool.port, CLIENT)
    session_id, job = await logged_in(v1)
    assert (await good_share(v1, session_id, job, 0))["result"] == {"status": "OK"}
    assert pool.sink.records[-1].ip == CLIENT
    origin = session_from(pool, CLIENT).origin
    assert (origin.peer_ip, origin.local_host, origin.local_port, origin.proxied) == (
        "127.0.0.1",
        *BALANCER_FRONT,
        True,
    )
    v2 = await via_proxy(pool.port, "2001:db8::7", version=2, tlvs=pp.ssl_tlv("TLSv1.3"))
    await logged_in(v2)
    assert session_from(pool, "2001:db8::7").tls  # TLS terminated at the balancer
    direct = await StratumClient.connect(pool.port)  # optional: a header is not required
    await logged_in(direct)
    assert len(pool.server.registry.from_ip("127.0.0.1")) == 1
    for client in (v1, v2, direct):
        await client.close()


async def test_a_v2_local_health_check_is_served_as_the_balancer(make_pool: PoolFactory) -> None:
    pool = await proxy_pool(make_pool)
    client = await StratumClient.connect(pool.port, preamble=pp.v2_header(None) + b"GET / HTTP/1.0\r\n\r\n")
    assert (await client.read_until_closed()).startswith(b"HTTP/1.1 200 OK")


async def test_closing_with_handshakes_in_flight_closes_their_sockets(make_pool: PoolFactory) -> None:
    """Connections still in their PROXY header wait when the server closes: their handshakes are cancelled
    and their sockets closed (not left to the garbage collector, which would warn of unclosed sockets)."""
    pool = await proxy_pool(make_pool, proxy=ProxySettings(trusted=("127.0.0.1",), header_timeout=30))
    waiting = [await StratumClient.connect(pool.port, preamble=b"PROXY TCP4 ") for _ in range(3)]
    await wait_until(lambda: len(pool.server._handshakes) == 3)  # all three accepted, none a session yet
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await pool.server.close()
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    for client in waiting:
        assert await client.read_until_closed() == b""


async def test_a_proxy_header_from_an_untrusted_peer_closes_the_connection(make_pool: PoolFactory) -> None:
    pool = await proxy_pool(make_pool)
    spoofer = await via_proxy(pool.port, CLIENT, source="127.0.0.2")  # not a trusted balancer
    assert await spoofer.read_until_closed() == b""
    assert pool.server.registry.from_ip(CLIENT) == []
    assert pool.server.stats().drops.get("PROXY header from an untrusted peer") == 1


async def test_a_mandatory_port_refuses_direct_peers_missing_and_bad_headers(make_pool: PoolFactory) -> None:
    pool = await proxy_pool(make_pool)
    mandatory = pool.server.listening[1].port
    untrusted = await via_proxy(mandatory, CLIENT, source="127.0.0.2")
    no_header = await StratumClient.connect(mandatory)
    await no_header.send({"id": 1, "method": "login", "params": {"login": ADDRESS}})
    bad = await StratumClient.connect(mandatory, preamble=b"PROXY TCP4 1.2.3 4.5.6.7 1 2\r\n")
    silent = await StratumClient.connect(mandatory)  # the header deadline
    for client in (untrusted, no_header, bad, silent):
        assert await client.read_until_closed() == b""
    good = await via_proxy(mandatory, CLIENT)
    await logged_in(good)
    await good.close()


async def test_caps_and_bans_use_the_real_client_address(make_pool: PoolFactory) -> None:
    caps = ConnectionCaps(per_ip=2, per_subnet=1000)
    pool = await proxy_pool(make_pool, protection=ProtectionSettings(caps=caps))
    first, second = await via_proxy(pool.port, CLIENT), await via_proxy(pool.port, CLIENT)
    await logged_in(first)
    await logged_in(second)
    third = await via_proxy(pool.port, CLIENT)
    assert await third.read_until_closed() == b""
    other = await via_proxy(pool.port, OTHER_CLIENT)  # same balancer, another client: fine
    await logged_in(other)
    for client in (first, second, other):
        await client.close()


# --- bans ---------------------------------------------------------------------------------------------------


async def send_bad_shares_until_closed(client: StratumClient, session_id: str, job: dict[str, Any]) -> int:
    """Bad hashes until the pool closes the connection; how many were answered."""
    for nonce in range(100):
        params = {"id": session_id, "job_id": job["job_id"], "nonce": f"{nonce:08x}", "result": "ee" * 32}
        with contextlib.suppress(ConnectionError):
            await client.send({"id": nonce, "method": "submit", "params": params})
        reply = await client.read_message()
        if reply is None:
            return nonce
        assert message(reply) == "Rejected share: invalid result"
    raise AssertionError("the bad wallet was never banned")


async def test_one_bad_wallet_behind_a_shared_ip_is_banned_the_good_one_keeps_mining(
    make_pool: PoolFactory, ban_store: BanStore
) -> None:
    pool = await proxy_pool(make_pool, protection=protection(), ban_store=ban_store)
    good, bad = await via_proxy(pool.port, CLIENT), await via_proxy(pool.port, CLIENT)
    good_id, good_job = await logged_in(good, ADDRESS)
    bad_id, bad_job = await logged_in(bad, OTHER_ADDRESS)
    for start in range(0, 4000, 1000):
        assert (await good_share(good, good_id, good_job, start))["result"] == {"status": "OK"}
    answered = await send_bad_shares_until_closed(bad, bad_id, bad_job)
    assert answered >= 10  # judged on the ratio, not on the first bad share
    # The bad wallet cannot come back from that address...
    again = await via_proxy(pool.port, CLIENT)
    reply = await again.login(OTHER_ADDRESS)
    assert message(reply).startswith("Temporarily refused") and "banned" not in message(reply)
    assert await again.read_until_closed() == b""
    # ...from anywhere else it can, and the good wallet on the shared address keeps mining.
    elsewhere = await via_proxy(pool.port, OTHER_CLIENT)
    await logged_in(elsewhere, OTHER_ADDRESS)
    assert (await good_share(good, good_id, good_job, 5000))["result"] == {"status": "OK"}
    fresh = await via_proxy(pool.port, CLIENT)
    await logged_in(fresh, ADDRESS)
    # The ban is shared: the API reads it from Redis.
    assert await pool.server.sync_bans()
    bans = await ban_store.list_bans(int(pool.clock() * 1000))
    assert [(b.scope, b.ip, b.address) for b in bans] == [(BanScope.WALLET, CLIENT, OTHER_ADDRESS)]
    assert bans[0].source == pool.server.instance and "invalid" in bans[0].reason
    for client in (good, elsewhere, fresh):
        await client.close()


async def test_bans_are_shared_between_processes_and_lifted_through_the_store(
    make_pool: PoolFactory, ban_store: BanStore
) -> None:
    first = await proxy_pool(make_pool, protection=protection(), ban_store=ban_store, instance="one")
    second = await proxy_pool(make_pool, protection=protection(), ban_store=ban_store, instance="two")
    second.clock.now = first.clock.now
    assert await second.server.sync_bans()
    bad = await via_proxy(first.port, CLIENT)
    bad_id, bad_job = await logged_in(bad, OTHER_ADDRESS)
    await send_bad_shares_until_closed(bad, bad_id, bad_job)
    # A miner of that wallet on the other process is closed as soon as that process hears of the ban.
    elsewhere = await via_proxy(second.port, CLIENT)
    await logged_in(elsewhere, OTHER_ADDRESS)
    assert await first.server.sync_bans()
    assert await second.server.sync_bans()
    assert await elsewhere.read_until_closed() == b""
    refused = await via_proxy(second.port, CLIENT)
    assert message(await refused.login(OTHER_ADDRESS)).startswith("Temporarily refused")
    assert await refused.read_until_closed() == b""
    # Lifted through the store (what the API does): every process lets the wallet in again.
    (ban,) = await ban_store.list_bans(int(first.clock() * 1000))
    assert await ban_store.get_ban(ban.ban_id, int(first.clock() * 1000)) == ban
    assert await ban_store.remove_ban(ban.ban_id)
    assert await second.server.sync_bans()
    back = await via_proxy(second.port, CLIENT)
    await logged_in(back, OTHER_ADDRESS)
    await back.close()


async def test_abuse_without_a_wallet_bans_the_ip(make_pool: PoolFactory, ban_store: BanStore) -> None:
    pool = await proxy_pool(make_pool, protection=protection(abuse_threshold=6), ban_store=ban_store)
    for _ in range(2):
        junk = await via_proxy(pool.port, CLIENT)
        await junk.send_raw(b"junk\n" * 3)  # 3 malformed lines: answered, then the connection is closed
        await junk.read_until_closed()
    refused = await via_proxy(pool.port, CLIENT)
    assert await refused.read_until_closed() == b""  # refused at connect, not even a reply
    other = await via_proxy(pool.port, OTHER_CLIENT)
    await logged_in(other)
    await other.close()
    assert await pool.server.sync_bans()
    (ban,) = await ban_store.list_bans(int(pool.clock() * 1000))
    assert (ban.scope, ban.ip) == (BanScope.IP, CLIENT)


# --- rates, caps, floods ------------------------------------------------------------------------------------


async def test_requests_over_the_rate_wait_their_turn_and_far_over_are_refused(
    make_pool: PoolFactory,
) -> None:
    rates = RateLimits(getjob=Rate(per_second=20, burst=2), max_delay=0.5)
    pool = await make_pool(protection=ProtectionSettings(rates=rates))  # the clock stands still in tests
    client = await StratumClient.connect(pool.port)
    session_id, _ = await logged_in(client)
    lines = [{"id": i, "method": "getjob", "params": {"id": session_id}} for i in range(13)]
    await client.send_raw(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    replies = [await client.read_reply() for _ in range(13)]
    assert [r["id"] for r in replies] == list(range(13))  # in order, the delayed ones included
    assert all(r["error"] is None for r in replies[:12])
    assert message(replies[12]) == "Too many requests from your address: slow down"
    await client.close()


async def test_failed_hashes_past_the_allowance_wait_for_the_wallet_not_for_its_neighbours(
    make_pool: PoolFactory,
) -> None:
    # 3 failed hashes at once, then one per 50 ms; a share that would wait over 120 ms is refused.
    rates = RateLimits(
        failed_hashes_per_wallet=Rate(per_second=20, burst=3),
        failed_hashes_per_ip=Rate(per_second=100, burst=100),
        max_delay=0.12,
    )
    settings = ProtectionSettings(rates=rates, bans=BanRules(enabled=False))
    pool = await proxy_pool(make_pool, protection=settings)  # the clock stands still in tests
    good, bad = await via_proxy(pool.port, CLIENT), await via_proxy(pool.port, CLIENT)
    good_id, good_job = await logged_in(good, ADDRESS)
    bad_id, bad_job = await logged_in(bad, OTHER_ADDRESS)
    bad_share = {"id": bad_id, "job_id": bad_job["job_id"], "result": "ee" * 32}
    lines = [{"id": n, "method": "submit", "params": {**bad_share, "nonce": f"{n:08x}"}} for n in range(7)]
    await bad.send_raw(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    replies = [await bad.read_reply() for _ in range(7)]
    assert [r["id"] for r in replies] == list(range(7))
    # Three within the allowance, two after a wait (50 ms, 100 ms), then over max_delay: refused unhashed.
    assert [message(r) for r in replies] == ["Rejected share: invalid result"] * 5 + [
        "Too many requests from your address: slow down"
    ] * 2
    # The neighbour behind the same address is not held up by the other wallet's failures.
    assert (await good_share(good, good_id, good_job, 0))["result"] == {"status": "OK"}
    for client in (good, bad):
        await client.close()


async def test_a_flood_and_a_slowloris_do_not_disturb_an_honest_miner(make_pool: PoolFactory) -> None:
    settings = ProtectionSettings(
        rates=RateLimits(submit=Rate(per_second=50, burst=20), keepalived=Rate(5, 5), max_delay=0.2),
        caps=ConnectionCaps(per_ip=20, per_subnet=10_000),
    )
    pool = await make_pool(protection=settings)
    honest = await StratumClient.connect(pool.port, source="127.0.0.1")
    honest_id, honest_job = await logged_in(honest)

    flooder = await StratumClient.connect(pool.port, source="127.0.0.2")
    flood_id, flood_job = await logged_in(flooder, OTHER_ADDRESS)
    flood = b"".join(
        json.dumps(
            {
                "id": i,
                "method": "submit",
                "params": {
                    "id": flood_id,
                    "job_id": flood_job["job_id"],
                    "nonce": f"{i:08x}",
                    "result": "ee" * 32,
                },
            }
        ).encode()
        + b"\n"
        for i in range(3000)
    )
    keepalive_flood = b"".join(
        json.dumps({"id": i, "method": "keepalived", "params": {"id": flood_id}}).encode() + b"\n"
        for i in range(500)
    )
    flooder.writer.write(flood + keepalive_flood)  # more than the pool will read: it stops reading

    slowloris = [await StratumClient.connect(pool.port, source="127.0.0.3") for _ in range(20)]
    for client in slowloris:
        await client.send_raw(b'{"id":1,"method":"log')  # never a newline
    over_cap = await StratumClient.connect(pool.port, source="127.0.0.3")
    assert await over_cap.read_until_closed() == b""  # the 21st connection from that address

    for start in range(0, 10_000, 1000):  # the honest miner mines on as if alone
        reply = await good_share(honest, honest_id, honest_job, start)
        assert reply["result"] == {"status": "OK"}, reply
    keepalive = await honest.call("keepalived", {"id": honest_id})
    assert keepalive["result"] == {"status": "KEEPALIVED"}
    assert sum(1 for r in pool.sink.records if r.address == ADDRESS) == 10

    pool.clock.advance(TEST_LIMITS.login_timeout)  # the login deadline ends the slowloris
    pool.server.housekeeping()
    for client in slowloris:
        assert await client.read_until_closed() == b""
    await wait_until(lambda: pool.server.registry.from_ip("127.0.0.3") == [])
    assert (await good_share(honest, honest_id, honest_job, 20_000))["result"] == {"status": "OK"}
    flooder.writer.transport.abort()
    await honest.close()


# --- TLS ----------------------------------------------------------------------------------------------------


def tls_settings(certificate: tuple[Path, Path]) -> TlsSettings:
    return TlsSettings(cert_file=certificate[0], key_file=certificate[1])


async def test_tls_mining_works(make_pool: PoolFactory, certificate: tuple[Path, Path]) -> None:
    ports = (PortConfig(0, difficulty=100, vardiff=VARDIFF, host="127.0.0.1", tls=True),)
    pool = await make_pool(ports=ports, tls=tls_settings(certificate))
    client = await StratumClient.connect(pool.port, ssl_context=client_tls_context(certificate[0]))
    session_id, job = await logged_in(client)
    assert (await good_share(client, session_id, job, 0))["result"] == {"status": "OK"}
    assert session_from(pool, "127.0.0.1").tls
    plain = await StratumClient.connect(pool.port)  # plain text on a TLS port: the handshake fails
    await plain.send({"id": 1, "method": "login", "params": {"login": ADDRESS}})
    assert await plain.read_until_closed() == b""
    await client.close()


async def test_tls_auto_detection_serves_both_on_one_port(
    make_pool: PoolFactory, certificate: tuple[Path, Path]
) -> None:
    ports = (PortConfig(0, difficulty=100, vardiff=VARDIFF, host="127.0.0.1", tls_auto_detect=True),)
    pool = await make_pool(ports=ports, tls=tls_settings(certificate))
    secure = await StratumClient.connect(pool.port, ssl_context=client_tls_context(certificate[0]))
    plain = await StratumClient.connect(pool.port, source="127.0.0.2")
    for client in (secure, plain):
        session_id, job = await logged_in(client)
        assert (await good_share(client, session_id, job, 0))["result"] == {"status": "OK"}
    assert session_from(pool, "127.0.0.1").tls and not session_from(pool, "127.0.0.2").tls
    for client in (secure, plain):
        await client.close()


async def test_tls_behind_a_proxy_header(make_pool: PoolFactory, certificate: tuple[Path, Path]) -> None:
    ports = proxy_ports(tls=True)
    pool = await proxy_pool(make_pool, ports=ports, tls=tls_settings(certificate))
    header = pp.v2_header((CLIENT, 1234), BALANCER_FRONT)
    context = client_tls_context(certificate[0])
    client = await StratumClient.connect(pool.port, preamble=header, ssl_context=context)
    await logged_in(client)
    assert session_from(pool, CLIENT).tls
    await client.close()


def tls_port(host: str = "127.0.0.1") -> tuple[PortConfig, ...]:
    return (PortConfig(0, difficulty=100, vardiff=VARDIFF, host=host, tls=True),)


async def refused_before_its_handshake(pool: Pool, context: ssl.SSLContext, source: str, why: str) -> None:
    """A connection from `source` is closed before it sends a byte, and a TLS client gets no ServerHello."""
    silent = await StratumClient.connect(pool.port, source=source)  # never sends a ClientHello
    assert await silent.read_until_closed() == b""
    with pytest.raises(OSError):  # ssl.SSLError (EOF) or a reset: the handshake never completes
        await StratumClient.connect(pool.port, source=source, ssl_context=context)
    assert pool.server.registry.from_ip(source) == []
    assert pool.server.stats().drops[f"refused: {why}"] == 2


async def mines_over_tls(pool: Pool, context: ssl.SSLContext, source: str) -> None:
    client = await StratumClient.connect(pool.port, source=source, ssl_context=context)
    await logged_in(client)
    await client.close()


async def test_a_banned_ip_is_refused_before_a_tls_handshake(
    make_pool: PoolFactory, certificate: tuple[Path, Path]
) -> None:
    # A long handshake deadline: had the server waited for the ClientHello, the silent client would hang.
    tls = replace(tls_settings(certificate), handshake_timeout=600)
    pool = await make_pool(ports=tls_port(), tls=tls)
    now_ms = int(pool.clock() * 1000)
    # Loopback is never banned by the pool itself; a ban shared by another process (or the API) still holds.
    pool.server.guard.apply(
        BanRecord(BanScope.IP, "127.0.0.5", reason="test", created_ms=now_ms, until_ms=now_ms + 60_000),
        local=False,
    )
    context = client_tls_context(certificate[0])
    await refused_before_its_handshake(pool, context, "127.0.0.5", "banned IP")
    await mines_over_tls(pool, context, "127.0.0.6")


async def test_half_open_tls_handshakes_count_toward_the_connection_cap(
    make_pool: PoolFactory, certificate: tuple[Path, Path]
) -> None:
    tls = replace(tls_settings(certificate), handshake_timeout=600)
    caps = ProtectionSettings(caps=ConnectionCaps(per_ip=2, per_subnet=2))
    pool = await make_pool(ports=tls_port(), tls=tls, protection=caps)
    half_open = [await StratumClient.connect(pool.port, source="127.0.0.7") for _ in range(2)]
    await wait_until(lambda: pool.server.guard.connections_from("127.0.0.7") == 2)
    context = client_tls_context(certificate[0])
    await refused_before_its_handshake(pool, context, "127.0.0.7", "connection cap")
    for client in half_open:
        await client.close()
    await wait_until(lambda: pool.server.guard.connections_from("127.0.0.7") == 0)
    await mines_over_tls(pool, context, "127.0.0.7")  # the slots held by half-open handshakes are free again


async def test_failed_and_stalled_tls_handshakes_count_as_abuse(
    make_pool: PoolFactory, certificate: tuple[Path, Path]
) -> None:
    address = host_address()
    if address is None:
        pytest.skip("needs a non-loopback address (loopback is never banned)")
    tls = replace(tls_settings(certificate), handshake_timeout=0.2)
    pool = await make_pool(ports=tls_port(address), tls=tls, protection=protection(abuse_threshold=2))
    plain = await StratumClient.connect(pool.port, host=address, source=address)
    await plain.send({"id": 1, "method": "login", "params": {"login": ADDRESS}})  # no TLS on a TLS port
    assert await plain.read_until_closed() == b""
    assert pool.server.guard.ip_ban(address) is None  # one point of two
    stalled = await StratumClient.connect(pool.port, host=address, source=address)  # no ClientHello
    assert await stalled.read_until_closed() == b""  # dropped at the handshake deadline
    ban = pool.server.guard.ip_ban(address)
    assert ban is not None and "failed TLS handshake" in ban.reason
    refused = await StratumClient.connect(pool.port, host=address, source=address)
    assert await refused.read_until_closed() == b""
    assert pool.server.stats().drops["refused: banned IP"] == 1


def test_a_tls_port_needs_a_certificate() -> None:
    from athena_pool.stratum import StratumConfig

    with pytest.raises(ValueError, match="tls section"):
        StratumConfig(ports=(PortConfig(3333, 100, tls=True),))


async def test_a_bad_certificate_stops_the_start(make_pool: PoolFactory, tmp_path: Path) -> None:
    missing = TlsSettings(cert_file=tmp_path / "none.pem", key_file=tmp_path / "none.key")
    ports = (PortConfig(0, difficulty=100, host="127.0.0.1", tls=True),)
    with pytest.raises((OSError, ssl.SSLError)):
        await make_pool(ports=ports, tls=missing)


# --- share trust --------------------------------------------------------------------------------------------


async def test_share_trust_skips_hashes_never_for_blocks_and_resets_on_a_bad_share(
    make_pool: PoolFactory,
) -> None:
    draws = [0.5]  # the next random draw; verify when it falls below the miner's chance
    trust = TrustSettings(enabled=True, trusted_after=3, step_percent=60, min_verified_percent=10)
    pool = await make_pool(judge_factory=TrustingFakeJudge, trust=trust, trust_draw=lambda: draws[0])
    judge = pool.judge
    assert isinstance(judge, TrustingFakeJudge)
    client = await StratumClient.connect(pool.port)
    session_id, job = await logged_in(client)
    for start in range(0, 8000, 1000):
        assert (await good_share(client, session_id, job, start))["result"] == {"status": "OK"}
    assert judge.unverified > 0  # trusted: some shares were taken without a hash
    # A claimed block is hashed even from a trusted miner (and this one is a lie).
    claim = await submit(client, session_id, job, "7fffffff", "01" + "00" * 31)
    assert message(claim) == "Rejected share: invalid result"
    # Caught on a sampled share: trust is gone, the next shares are all hashed.
    draws[0] = 0.0
    bad = await submit(client, session_id, job, "7ffffffe", "ee" * 32)
    assert message(bad) == "Rejected share: invalid result"
    draws[0] = 0.99
    skipped = judge.unverified
    for start in range(10_000, 14_000, 1000):
        assert (await good_share(client, session_id, job, start))["result"] == {"status": "OK"}
    assert judge.unverified == skipped
    await client.close()


def test_trust_needs_a_judge_that_can_skip(template_blob: bytes) -> None:
    from stratum_fakes import FakeJobSource, FakeJudge, ListSink, default_ports, validate_test_address

    from athena_pool.stratum import StratumConfig, StratumServer

    source = FakeJobSource(template_blob, 1)
    config = StratumConfig(ports=default_ports(), trust=TrustSettings(enabled=True))
    with pytest.raises(ValueError, match="verify=False"):
        StratumServer(
            config=config,
            job_source=source,
            judge=FakeJudge(source),
            share_sink=ListSink(),
            validate_address=validate_test_address,
        )


async def test_protection_off_for_loopback_is_still_on_for_the_rest(make_pool: PoolFactory) -> None:
    # Loopback floods are throttled like anyone's (only bans spare loopback).
    rates = RateLimits(keepalived=Rate(per_second=1, burst=1), max_delay=0)
    pool = await make_pool(protection=replace(ProtectionSettings(), rates=rates))
    client = await StratumClient.connect(pool.port)
    session_id, _ = await logged_in(client)
    assert (await client.call("keepalived", {"id": session_id}))["error"] is None
    assert message(await client.call("keepalived", {"id": session_id})).startswith("Too many requests")
    await wait_until(lambda: pool.server.registry.connections() == 1)
    await client.close()
