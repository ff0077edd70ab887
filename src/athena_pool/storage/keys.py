"""Every Redis key of the pool, built under one coin prefix (`athena` gives `athena:round:prop`).

Naming rule: a key is a fixed part followed by at most one free-text part (an address, a batch id), and no
fixed part is a prefix of another one, so no address (whatever characters it holds, `:` included) can make
two different keys equal. Records that hold free text (worker names, addresses) are never colon-joined
strings: they are hash fields, stream fields or JSON. Keys are never parsed back, and nothing reads the
keyspace with KEYS or SCAN: every listing is an index key below.

Each entry: key (type): contents. Then: writer -> readers; retention.

round:prop (hash): address -> difficulty credited in the current shared (PROP) round.
    record_shares -> API, add_block_candidate (renames it); until the next shared block.
round-total:prop (string): exact int64 sum of round:prop.
    record_shares -> API, add_block_candidate (moves it into the block record); as above.
round:solo:{address} (hash): the miner's own solo round, one field address -> difficulty.
    record_shares -> API, add_block_candidate; until that miner's next solo block.
round-total:solo:{address} (string): sum of that solo round. Same as above.
pplns (stream): one entry per credited shared (non-solo) share: a=address, d=difficulty, t=ms.
    record_shares -> unlocker (PPLNS window, newest first, ending at a block's pplns_cursor);
    capped with XADD MAXLEN ~ pplns_max_entries.
block:{height}:{hash} (hash): block record: height, hash, network_difficulty, reward_type,
    finder_address, finder_worker, time_ms, round_shares, pplns_cursor, status ("candidate"; the
    unlocker sets later states and adds its own fields).
    add_block_candidate, unlocker -> unlocker, API; kept forever (it is the idempotency marker too).
block-round:{height}:{hash} (hash): the round the block closed (a renamed round:*), address -> difficulty.
    add_block_candidate -> unlocker; deleted by the unlocker once credited.
blocks:candidates (zset): member "{height}:{hash}", score height.
    add_block_candidate -> unlocker, API; the unlocker moves members to blocks:matured.
blocks:matured (zset): member "{height}:{hash}", score height (unlocked or orphaned, see the record).
    unlocker -> API; kept.
miner:{address} (hash): valid, stale, invalid, low_diff, duplicate, expired (share counts), hashes
    (credited difficulty), last_share_ms (last credited share), last_seen_ms (last share of any kind).
    record_shares -> API; no TTL.
miner-workers:{address} (hash): "{stat}:{worker}" -> value, the miner-hash stats per worker (a stat
    name holds no ":", so split on the first one). record_shares -> API; no TTL.
miner-ips:{address} (zset): IP -> last share ms. record_shares -> API, bans; newest ip_history kept.
miners (zset): address -> last share ms (any kind): the index of all miners.
    record_shares -> API, payments; kept.
hashrate:pool (zset): one sample per batch and reward type; score = newest share ms, member JSON
    {"b": batch, "d": difficulty, "r": reward type, "w": ""}.
    record_shares -> API; trimmed to hashrate_window_s in the same script.
hashrate:miner:{address} (zset): one sample per batch, worker and reward type, member as above with
    "w" = worker. record_shares -> API; trimmed as above and PEXPIRE'd (only samples ever expire).
pool (hash): share counts by kind, hashes_prop, hashes_solo, last_share_ms, blocks_prop, blocks_solo,
    last_block_ms_prop, last_block_ms_solo. record_shares, add_block_candidate -> API; kept.
network (hash): height, difficulty, last_block_hash, last_block_time_s, updated_ms.
    job manager -> API; overwritten.
batch:{batch_id} (string): marks a share batch as applied. record_shares; TTL batch_dedupe_ttl_s (24 h).
balances (hash): address -> atomic units owed. unlocker (credit), payments (debit) -> API; no TTL.
paid (hash): address -> atomic units paid in total. payments -> API; no TTL.

`blocks:matured`, `balances` and `paid` are reserved here for the unlocker and payments; storage does not
write them yet. Balances live in one hash, apart from the activity stats, so they never expire with a
miner's activity and payments can walk them with HSCAN instead of KEYS.

--- unlocker / credits --- (the unlocker writes them through storage/ledger.py and lua/unlock_*.lua)
block-credits:{height}:{hash} (hash): address -> atomic units credited to that address by that block (its
    miners' share, finder reward and dev donation summed): the block's payout proof.
    unlock_credit.lua -> API; kept forever. Addresses credited 0 are not listed.
miner-credits:{address} (list): newest first, one JSON object per block that credited the address:
    {"height": int, "hash": hex, "amount": int atomic, "scheme": "prop"|"pplns"|"solo", "time_ms": int}.
    unlock_credit.lua -> API; trimmed to the newest `credit_history` entries (block-credits keeps all).
ledger (hash): running totals in atomic units, each changed in the same script as the money it counts:
    rewards_total (block rewards of unlocked blocks) = credited_total (everything added to balances) +
    fees_total (pool fee plus rounding remainders, kept by the pool). Breakdowns, already inside those:
    donations_total and finder_total (in credited_total), rounding_total (in fees_total). Counts:
    blocks_unlocked, blocks_orphaned. unlock_credit.lua, unlock_orphan.lua -> payments (invariant), API.
unlocker (hash): last_run_ms, last_ok_ms, candidates, last_error. The unlocker, after every pass -> API.
The block record gains, when unlocked: status "unlocked", orphaned 0, reward, scheme, fee, donation,
finder_reward, remainder, credited, unlocked_ms, and for PPLNS pplns_window (N), pplns_shares; when
orphaned: status "orphaned", orphaned 1, orphaned_ms, and its frozen block-round is merged back into the
live round it came from. Both move it from blocks:candidates to blocks:matured and delete the block-round.

--- payments --- (payments/ writes them through storage/payment_store.py and lua/pay_*.lua)
An "account" is what balances are kept under: an address, or `ADDRESS.PAYMENTID`. Invariant, in atomic
units: ledger.credited_total = sum(balances) + sum(payout-pending) + sum(paid) + sum(payout-fees).
payment-batch:{batch_id} (hash): one payout transaction and its durable state machine: state (reserved,
    submitting, submitted, finalized, retryable, manual_review, released), items (JSON list of {account,
    address, gross, charge, net}: gross left the balance, charge is the fee the miner pays, net is sent),
    payment_id, marker, fee (requested), created_ms, attempt, start_height and start_ms (written before the
    wallet call), tx_hash and real_fee (once known), reason, {state}_ms per state reached.
    pay_*.lua -> processor, API; kept forever (the payout proof).
payment-batches:open (zset): batch_id -> created ms, every batch not finalized or released yet.
    pay_reserve adds, pay_finalize / pay_release remove -> processor (recovery), API.
payment-batches:closed (zset): batch_id -> closing ms. pay_finalize, pay_release -> API; kept.
payout-pending (hash): account -> atomic units reserved in open batches. pay_reserve, pay_finalize,
    pay_release -> API, invariant; a field is deleted when it returns to 0.
payout-fees (hash): account -> transfer fees charged to the miner, in total. pay_finalize -> API; kept.
payout-threshold (hash): account -> the miner's own payout threshold (atomic). API -> processor (clamped
    to the configured bounds); kept.
payout-totals (hash): paid, fees_charged, network_fees (real fees of the pool's transactions),
    transactions. pay_finalize -> API; kept.
payment-txs (hash): tx hash -> batch_id, every wallet transaction recognised as a payment (a hash is never
    claimed by two batches). pay_submitted -> reconciliation, invariant; kept.
payment-lease (string): token of the processor pass allowed to write payments; PX expiry. Every pay_*
    script checks it, so a stalled or duplicate processor cannot move a batch.
payments:all (zset): member JSON {"batch", "tx", "amount" (sent), "fee" (real), "payees"}, score =
    finalized ms. pay_finalize -> API; kept.
payments:miner:{account} (zset): member JSON {"batch", "tx", "amount" (sent), "charge" (fee paid by the
    miner)}, score = finalized ms. pay_finalize -> API; kept.

--- api / charts --- (the API writes them through storage/api_store.py and lua/api_*.lua)
chart-pool:{series} (list): chart points, oldest first, each JSON [time_s, value, samples]: the values
    collected within one step are averaged into one point. Series: hashrate, hashrate_solo, miners,
    miners_solo, workers, workers_solo, difficulty. charts collector -> API; LTRIM'd to the retention.
    Counted series blocks, blocks_solo: [step start s, blocks found in that step, 1], the newest steps
    recounted from the block index at each collection (lua/api_chart_counts.lua); LTRIM'd the same.
chart-miner:{address} (list): the address's hashrate points, as above. charts collector -> API; LTRIM'd
    and PEXPIRE'd (an address that stops mining loses its chart after the retention).
chart-workers:{address} (hash): worker -> JSON list of points, as above. charts collector -> API; at most
    `max_workers_per_miner` fields (the least recently updated go first), points LTRIM'd, PEXPIRE'd.
live-stratum (hash): process instance id -> JSON live figures: a stratum instance's connections per port,
    miners, workers, hashrate, share and reject counters, recorder and hashing stats, last job broadcast,
    started_ms; every process's roles and RPC latency per daemon/wallet method; updated_ms. An entry
    without "connections" is a process without the pool role. LiveStatsPublisher (every few seconds;
    removes its field at exit) -> API, metrics; readers ignore entries older than live_stale_s and
    delete those older than a day.
service-status (hash): service name (daemon, wallet) -> JSON {ok, checked_ms, latency_ms, last_ok_ms,
    last_fail_ms, error, info}. ServiceMonitor -> API, metrics; overwritten.
log-lines (list): newest first, JSON {t, level, logger, message, instance}. LiveStatsPublisher -> admin API;
    LTRIM'd to `log_lines`.
notify-email (hash): account -> notification e-mail address. API (after a proof of ownership) -> API.
settings-challenge:{id} (string): JSON of a pending settings change (account, settings, message), id 32
    random hex. API -> API (GETDEL: used once); EX challenge_ttl_s.
admin-session:{sha256 of the token} (string): JSON {csrf, created_ms}. Admin login -> API; EX
    session_ttl_s. The cookie holds the token; Redis only its digest.
The API writes the miner's payout threshold into `payout-threshold` (payments section), after a proof.

--- bans --- (stratum writes them through storage/bans_store.py and lua/ban_*.lua; the API lists and lifts)
ban-records (hash): ban id (32 hex, from scope, ip, address, worker) -> JSON {scope ("ip", "wallet",
    "worker"), ip, address, worker, reason, created_ms, until_ms, source}. ban_add (extends, never shortens),
    ban_remove -> every stratum process, API; an expired ban is swept by the next ban_add.
ban-expiry (zset): ban id -> until ms, the index of live bans and of the sweep. Same writers.
ban-log (stream): one entry per change, op ("add" with the record, "del"), id. ban_add, ban_remove -> every
    stratum process (each follows it to keep its in-memory ban list current); XADD MAXLEN ~ ban_log_entries.
    A reader whose cursor fell behind the trimmed part reloads from ban-records (ban_snapshot).

--- jobs --- (a pub/sub channel, not a key: nothing is stored)
jobs-tip (channel): "{instance} {height} {prev_hash}" when a pool process installs a template on a new
    chain tip. jobs/tip_relay.py -> every other pool process (cluster workers, other hosts), which fetches
    a template at once instead of at its next poll.
"""

from __future__ import annotations

from athena_pool.storage.records import RewardType


class KeySpace:
    """Key names for one coin. `KeySpace("athena").round_prop == "athena:round:prop"`."""

    def __init__(self, coin_prefix: str) -> None:
        if not coin_prefix or coin_prefix.endswith(":"):
            raise ValueError(f"coin prefix must be a name without a trailing ':', got {coin_prefix!r}")
        self._p = f"{coin_prefix}:"

    @property
    def prefix(self) -> str:
        return self._p

    # Rounds
    @property
    def round_prop(self) -> str:
        return f"{self._p}round:prop"

    @property
    def round_total_prop(self) -> str:
        return f"{self._p}round-total:prop"

    def round_solo(self, address: str) -> str:
        return f"{self._p}round:solo:{address}"

    def round_total_solo(self, address: str) -> str:
        return f"{self._p}round-total:solo:{address}"

    def round(self, kind: RewardType, address: str) -> str:
        """The live round a share of `address` with reward type `kind` is credited to."""
        return self.round_prop if kind is RewardType.PROP else self.round_solo(address)

    def round_total(self, kind: RewardType, address: str) -> str:
        return self.round_total_prop if kind is RewardType.PROP else self.round_total_solo(address)

    @property
    def pplns(self) -> str:
        return f"{self._p}pplns"

    # Blocks
    def block(self, height: int, hash_hex: str) -> str:
        return f"{self._p}block:{block_member(height, hash_hex)}"

    def block_round(self, height: int, hash_hex: str) -> str:
        return f"{self._p}block-round:{block_member(height, hash_hex)}"

    @property
    def blocks_candidates(self) -> str:
        return f"{self._p}blocks:candidates"

    @property
    def blocks_matured(self) -> str:
        return f"{self._p}blocks:matured"

    # Miners
    def miner(self, address: str) -> str:
        return f"{self._p}miner:{address}"

    def miner_workers(self, address: str) -> str:
        return f"{self._p}miner-workers:{address}"

    def miner_ips(self, address: str) -> str:
        return f"{self._p}miner-ips:{address}"

    @property
    def miners(self) -> str:
        return f"{self._p}miners"

    # Hashrate samples
    @property
    def hashrate_pool(self) -> str:
        return f"{self._p}hashrate:pool"

    def hashrate_miner(self, address: str) -> str:
        return f"{self._p}hashrate:miner:{address}"

    # Pool and network
    @property
    def pool(self) -> str:
        return f"{self._p}pool"

    @property
    def network(self) -> str:
        return f"{self._p}network"

    def batch(self, batch_id: str) -> str:
        return f"{self._p}batch:{batch_id}"

    # Money (reserved for the unlocker and payments)
    @property
    def balances(self) -> str:
        return f"{self._p}balances"

    @property
    def paid(self) -> str:
        return f"{self._p}paid"

    # --- unlocker / credits ---
    def block_credits(self, height: int, hash_hex: str) -> str:
        return f"{self._p}block-credits:{block_member(height, hash_hex)}"

    def miner_credits(self, address: str) -> str:
        return f"{self._p}miner-credits:{address}"

    @property
    def ledger(self) -> str:
        return f"{self._p}ledger"

    @property
    def unlocker(self) -> str:
        return f"{self._p}unlocker"

    # --- payments ---
    def payment_batch(self, batch_id: str) -> str:
        return f"{self._p}payment-batch:{batch_id}"

    @property
    def payment_batches_open(self) -> str:
        return f"{self._p}payment-batches:open"

    @property
    def payment_batches_closed(self) -> str:
        return f"{self._p}payment-batches:closed"

    @property
    def payout_pending(self) -> str:
        return f"{self._p}payout-pending"

    @property
    def payout_fees(self) -> str:
        return f"{self._p}payout-fees"

    @property
    def payout_threshold(self) -> str:
        return f"{self._p}payout-threshold"

    @property
    def payout_totals(self) -> str:
        return f"{self._p}payout-totals"

    @property
    def payment_txs(self) -> str:
        return f"{self._p}payment-txs"

    @property
    def payment_lease(self) -> str:
        return f"{self._p}payment-lease"

    @property
    def payments_all(self) -> str:
        return f"{self._p}payments:all"

    def payments_miner(self, account: str) -> str:
        return f"{self._p}payments:miner:{account}"

    # --- api / charts ---
    def chart_pool(self, series: str) -> str:
        return f"{self._p}chart-pool:{series}"

    def chart_miner(self, address: str) -> str:
        return f"{self._p}chart-miner:{address}"

    def chart_workers(self, address: str) -> str:
        return f"{self._p}chart-workers:{address}"

    @property
    def live_stratum(self) -> str:
        return f"{self._p}live-stratum"

    @property
    def service_status(self) -> str:
        return f"{self._p}service-status"

    @property
    def log_lines(self) -> str:
        return f"{self._p}log-lines"

    @property
    def notify_email(self) -> str:
        return f"{self._p}notify-email"

    def settings_challenge(self, challenge_id: str) -> str:
        return f"{self._p}settings-challenge:{challenge_id}"

    def admin_session(self, digest_hex: str) -> str:
        return f"{self._p}admin-session:{digest_hex}"

    # --- bans ---
    @property
    def ban_records(self) -> str:
        return f"{self._p}ban-records"

    @property
    def ban_expiry(self) -> str:
        return f"{self._p}ban-expiry"

    @property
    def ban_log(self) -> str:
        return f"{self._p}ban-log"

    # --- jobs ---
    @property
    def jobs_tip_channel(self) -> str:
        return f"{self._p}jobs-tip"


def block_member(height: int, hash_hex: str) -> str:
    """Block id used in the block indexes and block keys. Both parts are ours (int, hex): safe to join."""
    return f"{height}:{hash_hex}"


def parse_block_member(member: str) -> tuple[int, str]:
    height, _, hash_hex = member.partition(":")
    return int(height), hash_hex


def worker_field(stat: str, worker: str) -> str:
    """Field of `miner-workers:{address}`; the stat comes first so a `:` in the worker name is harmless."""
    return f"{stat}:{worker}"


def split_worker_field(field: str) -> tuple[str, str]:
    stat, _, worker = field.partition(":")
    return stat, worker
