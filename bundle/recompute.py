#!/usr/bin/env python3
"""Recomputes every figure of an slo-agent evidence bundle from the bundle alone.

Run in the bundle directory:  python3 recompute.py > figures.json

Reads configuration.json (the agent's configuration, secrets removed; its SHA-256 is the
statement's config_sha256), records.ndjson (the month's hash-chained records), classification.ndjson
(each record's verdict), maintenance.json (the maintenance feed's windows) and the maintenance
observations and configuration records of inputs.ndjson (each version of a feed or declared window, from
when it was first seen), and for a month retention pruned rollups.ndjson (the pruned days' rollups,
each day checked against its rollup commitment in inputs.ndjson). Prints one JSON
object: per category requests, successful, excluded, availability_pct and latency_p99_ms, and per
service class availability_pct and credit_pct, by the contract's arithmetic:

  availability = successful * 100 / requests, over the requests not excluded; successful = answered
  200-499; no response and 5xx count as failed; no requests: null. p99 = the nearest-rank 99th
  percentile of the durations of counted requests that got a response (a timeout counts at its
  probe's timeout). A service class pools its categories' requests. Its credit is the credit_pct of
  the tier with the lowest below_pct its availability is under; 0 under none; null without traffic
  or tiers. Which records count is configuration.json's sla.figuresFrom (sla.source): the probes' (default), the
  merchant requests' (records with "source":"traffic"), or both.

Every verdict is also checked against what lies beside it (the windows, exclusions and control
results); a verdict that does not hold, a figure that differs from report.json, or a
configuration.json that is none the agent recorded for the month (inputs.ndjson) and differs from
them in what decides a figure or a verdict (an objective, a target, a credit, an exclusion), is one
line on stderr and exit status 1. A record is read only from the bytes its hash covers: a line of
records.ndjson that is not `{"seq":N,"prev_hash":"…","hash":"…",` followed by its canonical form,
or whose hash, link or month digest does not hold, is a dispute too. A bundle that cannot be read
(a missing file or member) is one line on stderr and exit status 2. Python 3 standard library only.

This file is the merchant's copy: read it (it is short) or compare its SHA-256 with the one of the
published slo-agent release before trusting what it says.
"""
import hashlib
import ipaddress
import json
import math
import os
import re
import sys
from bisect import bisect_left
from datetime import datetime, timezone
from fractions import Fraction

DAY_MS, HOUR_MS = 86_400_000, 3_600_000
NETWORK_FAILURES = {"timeout", "connect", "dns", "tls", "reset"}
disputes = []


def ms(iso):
    """An ISO-8601 UTC instant ("2026-10-01T00:00:30.000Z") as epoch milliseconds."""
    return round(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def in_scope(scope, category):
    return scope == "all" or category in scope


class Malformed(Exception):
    """The bundle cannot be read (exit 2): not a dispute about what it says."""


def unique(pairs):
    # Python's json keeps the last of duplicate keys: a value nobody signed could hide before it.
    members = dict(pairs)
    if len(members) != len(pairs):
        raise Malformed(f"duplicate key in {[k for k, _ in pairs]}")
    return members


def refuse_constant(name):
    raise Malformed(f"{name} is not a JSON number")


# One decoder for every line: json.loads with hooks builds a new one per call (a tenth of a run).
DECODER = json.JSONDecoder(object_pairs_hook=unique, parse_constant=refuse_constant)


def loads(text):
    return DECODER.decode(text)


def load(name):
    with open(name, encoding="utf-8") as f:
        return loads(f.read())


def load_ndjson(name):
    with open(name, encoding="utf-8") as f:
        return [loads(line) for line in f if line.strip()]


def sha256_of(name):
    with open(name, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def hashed_lines(name, first_member, first_pass=False):
    """Each line of a chain file (records.ndjson, inputs.ndjson) read from its hashed bytes only:
    `{"seq":N,"prev_hash":"…","hash":"…",` exactly, then the canonical form its hash covers, whose
    first member is first_member. Yields (line number, that prefix's match, canonical, object)."""
    prefix = re.compile(r'\{"seq":(0|[1-9][0-9]*),"prev_hash":"([0-9a-f]{64})","hash":"([0-9a-f]{64})",'
                        f'(?="{first_member}":)')
    with open(name, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            head = prefix.match(line)
            if not head:
                if first_pass:
                    disputes.append(f"{name}:{number}: not a record's hashed form behind seq, prev_hash and hash")
                continue
            canonical = "{" + line[head.end():]
            yield number, head, canonical, loads(canonical)


def seen_inputs(first_pass=False):
    """Each line of inputs.ndjson as hashed_lines gives it, with when it counts as seen (ms): its ts, or
    the newest ts of an input chained before it when that is later (contract 14, a change never reaches
    back). An agent restarted with its clock set back chains a record dated before one already in the
    log; what it records counts from when the log shows it could have been seen, not from its date."""
    newest = float("-inf")
    for number, head, canonical, o in hashed_lines("inputs.ndjson", "kind", first_pass):
        newest = max(newest, ms(o["ts"]))
        yield number, head, canonical, o, newest


def hashed_records(first_pass=False):
    return hashed_lines("records.ndjson", "ts", first_pass)


def chained(name, number, head, canonical, previous):
    """Checks one line's link to the line before it (previous: that line's hash) and its own hash;
    returns its hash as recomputed."""
    if previous is not None and head.group(2) != previous:
        disputes.append(f"{name}:{number}: not chained to the line before it")
    recomputed = hashlib.sha256(f"{head.group(2)}\n{canonical}".encode("utf-8")).hexdigest()
    if recomputed != head.group(3):
        disputes.append(f"{name}:{number}: its content does not match its hash")
    return recomputed


def unreadable(kind, error, _traceback):
    """Any error reading the bundle is one line and exit 2: exit 1 is kept for a real dispute."""
    sys.stdout.flush()
    print(f"recompute.py: the bundle cannot be read: {kind.__name__}: {error}", file=sys.stderr)
    sys.stderr.flush()
    os._exit(2)


sys.excepthook = unreadable

# --- The inputs -------------------------------------------------------------------------------
config = load("configuration.json")
maintenance = load("maintenance.json")
statement = load("statement.json")
month = statement["month"]
if sha256_of("configuration.json") != statement["config_sha256"]:
    disputes.append("configuration.json: its SHA-256 is not the statement's config_sha256")
year, mon = int(month[:4]), int(month[5:7])
month_start = ms(f"{month}-01T00:00:00Z")
month_end = ms(f"{year + mon // 12}-{mon % 12 + 1:02d}-01T00:00:00Z")
categories = config["categories"]
timeouts = {p["id"]: p["timeoutMs"] for p in config["probes"]}


def identity(line):
    # A merchant request (source traffic) is identified by its span id too: many share a ms and a route.
    span = line.get("correlation_id") if line.get("source") == "traffic" else None
    return (line["ts"], line["probe"], line.get("agent"), span)


# Which records make the figures (contract section 19, sla.source): the probes' by default.
sla_source = (config.get("sla") or {}).get("figuresFrom") or "probes"


def decides(record):
    return sla_source == "both" or sla_source == ("traffic" if record.get("source") == "traffic" else "probes")


verdicts = {}
for v in load_ndjson("classification.ndjson"):
    verdicts.setdefault(identity(v), []).append(v)


# --- Moved maintenance: each part of a window from when it was first seen (contract 14) -------
def input_versions():
    """({feed window id: its versions}, {declared window id: its versions}), oldest first, read as the
    agent reads them from inputs.ndjson. A feed window's: its maintenance observations whose start,
    end, categories or cancellation differ from the one before for the same window; the first from
    its first_seen_at, a later one from when it was read (its ts); a cancellation is a version covering
    no category (categories []). A
    declared window's: the configuration records holding it (by the same rule), the first from the
    later of its declared announcedAt and the load of the first configuration holding it (its ts) --
    in the log's first configuration, from its announcedAt (nothing earlier can gainsay it) --, a later
    one whose start, end or categories differ from when that configuration was loaded (its ts), and
    one covering no category from the load of a configuration that no longer holds it. As
    maintenance.json's and report.json's `history`. None for declared windows when the log holds no
    configuration record (a store filled by import)."""
    versions, last, previous = {}, {}, None
    declared, declared_last, any_config = {}, {}, False
    held, held_order = set(), []  # the declared windows of the previous configuration record
    if not os.path.exists("inputs.ndjson"):  # a bundle without a signed checkpoint has no input chain
        return versions, None
    for number, head, canonical, o, seen_at in seen_inputs(first_pass=True):
        previous = chained("inputs.ndjson", number, head, canonical, previous)
        listed = ((o["payload"] or {}).get("maintenance") or {}).get("windows") if o["kind"] == "config" else None
        if isinstance(listed, list):
            # A window the configuration before held and this one does not: covers no category from
            # this load on (deleting it after it elapsed takes back nothing).
            for wid in sorted(held - {w["id"] for w in listed}, key=held_order.index):
                start, end, _ = declared_last[wid]
                declared_last[wid] = (start, end, [])
                declared[wid].append({"seenAt": seen_at, "start": start, "end": end, "categories": []})
            held = {w["id"] for w in listed}
            held_order = [w["id"] for w in listed]
        if o["kind"] == "config":
            for w in ((o["payload"] or {}).get("maintenance") or {}).get("windows") or []:
                shape = (w["start"], w["end"], w["categories"])
                if declared_last.get(w["id"]) == shape:
                    continue
                loaded = seen_at if any_config else w["announcedAt"]
                seen = seen_at if w["id"] in declared_last else max(w["announcedAt"], loaded)
                declared_last[w["id"]] = shape
                declared.setdefault(w["id"], []).append(
                    {"seenAt": seen, "start": w["start"], "end": w["end"], "categories": w["categories"]})
            any_config = True
        if o["kind"] != "maintenance_observation":
            continue
        p, wid = o["payload"], o["payload"]["provider_id"]
        shape = (p["start"], p["end"], p["categories"], p["cancelled_at"] is None)
        if last.get(wid) == shape:
            continue
        seen = seen_at if wid in last else p["first_seen_at"]
        last[wid] = shape
        # A cancellation covers no category from when it was read: what elapsed before stays.
        versions.setdefault(wid, []).append({"seenAt": seen, "start": p["start"], "end": p["end"],
                                             "categories": p["categories"] if p["cancelled_at"] is None else []})
    return versions, declared if any_config else None


def declared_history(window, logged):
    """A declared window's versions: every logged one; when the newest is not the window as given
    (a configuration the agent never loaded, an older one given to the report, or a window in none),
    one more, first seen when the report was made (report.json's generated_at): a change never
    reaches back. None when the log holds no configuration record: the window stands on its
    announcedAt."""
    if logged is None:
        return []
    shape = (window["start"], window["end"], window["categories"])
    if logged and (logged[-1]["start"], logged[-1]["end"], logged[-1]["categories"]) == shape:
        return logged
    made = ms(load("report.json")["generated_at"]) if os.path.exists("report.json") else None
    if made is None:
        disputes.append(f"declared window {window['id']}: its schedule is in no configuration record, "
                        f"and without report.json it cannot be told when that change was first seen")
        return logged
    return logged + [{"seenAt": made, "start": window["start"], "end": window["end"],
                      "categories": window["categories"]}]


def category_set(scope):
    return set(categories) if scope == "all" else set(scope)


def announcements(history, start, end):
    """{category: announced at}: for each category of the final version, when [start, end) was
    first announced for it -- the earliest version from which on every version covered it."""
    final = history[-1]
    announced, covered = final["seenAt"], category_set(final["categories"])
    by_category = {c: announced for c in covered}
    for v in reversed(history[:-1]):
        still = covered & category_set(v["categories"])
        if v["start"] > start or v["end"] < end or not still:
            break
        announced, covered = v["seenAt"], still
        by_category.update({c: announced for c in still})  # announced earlier: not by the later version
    return by_category


def scope_named(cats, history):
    """A part's categories as the window names them: the final version's own scope when it is that
    set, "all" when it is every category and some version said "all", else the categories sorted."""
    final = history[-1]["categories"]
    if cats and cats == category_set(final):
        return final
    if cats == set(categories) and any(v["categories"] == "all" for v in history):
        return "all"
    return sorted(cats)


def stretch_announcements(history, start, end):
    """[(announced at, categories)] of [start, end), a stretch no version's start, end or sighting
    cuts: the final version's, and while an earlier version was the newest one seen (from its
    sighting to the next version's), that version's -- a change counts from when it was seen, so
    what was maintenance as it elapsed stays so; a category both cover keeps the earlier notice."""
    def covers(v):
        return v["start"] <= start and end <= v["end"]
    earliest = {}
    found = [announcements(history, start, end)] if covers(history[-1]) else []
    in_force = max((j for j, v in enumerate(history) if v["seenAt"] <= start), default=-1)
    if 0 <= in_force < len(history) - 1 and covers(history[in_force]):
        found.append(announcements(history[:in_force + 1], start, end))
    for by_category in found:
        for c, at in by_category.items():
            earliest[c] = min(at, earliest.get(c, at))
    by_time = {}
    for c, at in earliest.items():
        by_time.setdefault(at, set()).add(c)
    return [(at, scope_named(cats, history)) for at, cats in sorted(by_time.items())]


def notice_parts(history):
    """The window cut at every version's start and end and every later version's sighting, each
    piece with its announcements; adjacent pieces with the same announcement and categories merged."""
    cuts = {t for v in history if v["end"] > v["start"] for t in (v["start"], v["end"])}
    cuts |= {v["seenAt"] for v in history[1:]}
    points = sorted(cuts)
    parts = []  # [start, end, announced at, categories]
    for start, end in zip(points, points[1:]):
        for at, scope in stretch_announcements(history, start, end):
            same = next((p for p in reversed(parts) if p[1] == start and p[2] == at and p[3] == scope), None)
            if same:
                same[1] = end
            else:
                parts.append([start, end, at, scope])
    return parts


def by_notice(window, history):
    """A window whose start, end or categories changed, as one window per notice part (same id: one
    occasion), never announced earlier than the window as a whole; an unchanged window as it is."""
    shape = [(v["start"], v["end"], v["categories"]) for v in history]
    if all(a == b for a, b in zip(shape, shape[1:])):  # never announced before it was first seen
        return [dict(window, announcedAt=max([window["announcedAt"]] + [v["seenAt"] for v in history[:1]]))]
    parts = notice_parts(history)
    if window.get("cancelled") and not parts:  # called off before any of it elapsed: never counted
        return [window]
    # A cancelled window's parts are what elapsed before the cancellation was read: judged by notice.
    return [dict(window, start=start, end=end, categories=scope, announcedAt=max(at, window["announcedAt"]),
                 cancelled=False)
            for start, end, at, scope in parts]


def removed_window(wid, logged):
    """A declared window the log's configurations held that config.json does not: its logged versions,
    covering no category from the deletion on (from report.json's generated_at when no record deleted
    it), so that what elapsed in force stays maintenance."""
    last = next((v for v in reversed(logged) if v["categories"]), None)
    if last is None:
        return []
    history = logged
    if logged[-1]["categories"]:
        made = ms(load("report.json")["generated_at"]) if os.path.exists("report.json") else None
        if made is None:
            disputes.append(f"declared window {wid}: the log holds it and config.json does not; without "
                            f"report.json it cannot be told when it was removed")
            return []
        history = logged + [{"seenAt": made, "start": last["start"], "end": last["end"], "categories": []}]
    window = {"id": wid, "start": last["start"], "end": last["end"], "announcedAt": logged[0]["seenAt"],
              "categories": last["categories"]}
    return [dict(part, history=history) for part in by_notice(window, history)]


# --- Maintenance windows that qualify (notice, occasions, hours per calendar year) --------------
def month_policy():
    """The maintenance policy that judges the month (contract 14): the one the configuration records of
    inputs.ndjson held when the month began (the log's first when it began later); one loaded within the
    month judges from the next month. config.json's when the log holds no configuration record."""
    policies = []  # (loaded at, policy), in log order
    if os.path.exists("inputs.ndjson"):
        for _, _, _, o, seen_at in seen_inputs():
            policy = ((o["payload"] or {}).get("maintenance") or {}).get("policy") if o["kind"] == "config" else None
            if policy is not None:
                policies.append((seen_at, policy))
    in_force = [p for at, p in policies if at <= month_start]
    return in_force[-1] if in_force else policies[0][1] if policies else config["maintenance"]["policy"]


FEED_ID_PREFIX = "feed:"  # src/slo/feed-windows.ts feedWindowId


def share_category(a, b):
    if a in ("all", ["all"]):
        return b in ("all", ["all"]) or len(b) > 0
    if b in ("all", ["all"]):
        return len(a) > 0
    return any(c in b for c in a)


def occasion_of(use, w):
    """src/slo/maintenance.ts occasionOf: the occasion holding w's id, else one w overlaps in time and
    category (contract 1 rule 4: one maintenance is one occasion), else a new one."""
    for o in use["occasions"]:
        if w["id"] in o["ids"]:
            return o
    for o in use["occasions"]:
        if any(s < w["end"] and e > w["start"] and share_category(c, w["categories"]) for s, e, c in o["extents"]):
            return o
    o = {"ids": set(), "extents": [], "counted": []}
    use["occasions"].append(o)
    return o


def covered_ms(spans, start, end):
    """How much of [start, end) the union of spans covers (src/slo/maintenance.ts coveredMs)."""
    ms, reached = 0, start
    for s, e in sorted((max(s, start), min(e, end)) for s, e in spans):
        if e <= s or e <= reached:
            continue
        ms += e - max(s, reached)
        reached = e
    return ms


declared_histories = {}  # declared window id -> the versions it was judged by (maintenance.json's history)


def qualifying_windows():
    """[(window id, start, end of its qualifying part, categories)], declared and feed windows."""
    versions, declared_versions = input_versions()
    ids = {w["id"] for w in config["maintenance"]["windows"]}
    # A declared window moved or extended by a reload: each part from when its configuration was loaded.
    declared = []
    for w in config["maintenance"]["windows"]:
        history = declared_history(w, None if declared_versions is None else declared_versions.get(w["id"], []))
        declared_histories[w["id"]] = history
        # The notice the log holds (its first version's), never the announcedAt given now.
        declared += by_notice(dict(w, announcedAt=history[0]["seenAt"]) if history else w, history)
    for wid, logged in (declared_versions or {}).items():
        if wid not in ids:
            parts = removed_window(wid, logged)
            declared_histories[wid] = parts[0]["history"] if parts else []
            declared += parts
    feed = []
    for f in maintenance["feed_windows"]:
        if f.get("history") != versions.get(f["providerId"]):
            disputes.append(f"maintenance.json feed window {f['providerId']}: its history is not the versions "
                            f"the maintenance observations of inputs.ndjson give")
        # Declared and feed windows are separate: one of a declared window's id stands beside it as
        # "feed:<id>" (declared ids cannot begin with "feed:"), and a declared window hides nothing.
        wid = FEED_ID_PREFIX + f["providerId"] if f["providerId"] in ids else f["providerId"]
        # A feed window's notice is when the agent first read it; each change's, when it read the change.
        window = {"id": wid, "start": f["start"], "end": f["end"], "announcedAt": f["firstSeenAt"],
                  "categories": f["categories"], "cancelled": f.get("cancelledAt") is not None}
        feed += by_notice(window, versions.get(f["providerId"], []))
    policy = month_policy()
    cap_ms = policy["maxHoursPerYear"] * HOUR_MS
    # year -> {"occasions": [{"ids", "extents", "counted"}], "ms": hours (ms) charged to the cap}
    used = {}
    qualifying = []
    for w in sorted(declared + feed, key=lambda w: w["start"]):  # stable: ties keep their order
        if w.get("cancelled") or w["announcedAt"] > w["start"] - policy["minNoticeDays"] * DAY_MS:
            continue
        use = used.setdefault(datetime.fromtimestamp(w["start"] / 1000, timezone.utc).year,
                              {"occasions": [], "ms": 0})
        occasion = occasion_of(use, w)  # one maintenance, whatever ids its windows carry
        occasion["ids"].add(w["id"])
        occasion["extents"].append((w["start"], w["end"], w["categories"]))
        if use["occasions"].index(occasion) >= policy["maxOccasionsPerYear"]:
            continue
        # Hours the occasion already counted (a moved window's parts, overlapping windows) count once.
        length = max(0, w["end"] - w["start"])
        shared = covered_ms(occasion["counted"], w["start"], w["end"])
        qualified = min(length, shared + max(0, cap_ms - use["ms"]))
        use["ms"] += qualified - covered_ms(occasion["counted"], w["start"], w["start"] + qualified)
        if qualified > 0:
            occasion["counted"].append((w["start"], w["start"] + qualified))
            qualifying.append((w["id"], w["start"], w["start"] + qualified, w["categories"]))
    return qualifying


windows = qualifying_windows()
exclusions = [(e["id"], e["start"], e["end"], e["categories"]) for e in config["exclusions"]]


def covering(intervals, category, ts):
    return [i for i, start, end, scope in intervals if start <= ts < end and in_scope(scope, category)]


def scope_key(categories):  # "all" in the configuration is ["all"] in the report
    return "all" if categories in ("all", ["all"]) else tuple(sorted(categories))


def part_key(by, category, ts):
    """(id, start, categories) of the qualifying part of window `by` that covers the request: a
    window changed late is several parts, each with its own excluded_requests."""
    return next(((i, start, scope_key(scope)) for i, start, end, scope in windows
                 if i == by and start <= ts < end and in_scope(scope, category)), None)


# --- merchant_side: controls_quorum controls failing, each a healthy witness (contract 14) ------
WITNESS_HEALTH_MS, FLAPPING_RUNS, FLAPPING_FAILURES = 10 * 60_000, 2, 2


def control_settings():
    """[(loaded at ms, {control id: control}, quorum)], oldest first: each result is judged by the
    controls and controls_quorum in force when it was sent (contract 14), read from the configuration
    records of inputs.ndjson (one without categories is a tool's and passed over); config.json's,
    from the beginning, when the log holds none."""
    settings = []
    if os.path.exists("inputs.ndjson"):
        for _, _, _, o, seen_at in seen_inputs():
            payload = o["payload"] or {}
            if o["kind"] == "config" and "categories" in payload:
                settings.append((seen_at, payload.get("controls") or [], payload.get("controlsQuorum", 2)))
    if not settings:
        settings = [(float("-inf"), config.get("controls", []), config.get("controlsQuorum", 2))]
    return [(at, {c["id"]: c for c in listed}, min(q, max(1, len(listed)))) for at, listed, q in settings]


CONTROL_SETTINGS = control_settings()


def controls_at(ts):
    """({control id: control}, quorum) in force at ts (the first settings before the log's first)."""
    in_force = [(c, q) for at, c, q in CONTROL_SETTINGS if at <= ts]
    return in_force[-1] if in_force else CONTROL_SETTINGS[0][1:]


def canonical_ip(ip):
    """An IP address in one spelling (contract 14): IPv4-mapped IPv6 as IPv4, IPv6 compressed, and
    every address of the local host as 127.0.0.1: all of 127.0.0.0/8 and ::1 (a server listening on
    0.0.0.0 or :: answers on each) and the unspecified 0.0.0.0 and :: (a connect to them reaches it)."""
    bare = ip.strip("[]").lower()
    try:
        parsed = ipaddress.ip_address(bare)
    except ValueError:
        return bare
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    if parsed.is_unspecified or parsed.is_loopback:
        parsed = ipaddress.ip_address("127.0.0.1")
    return str(parsed)


def canonical_address(address):
    """A recorded "scheme://ip:port" (IPv6 in brackets) in canonical form; other text as is."""
    m = re.fullmatch(r"([A-Za-z][A-Za-z0-9+.-]*://)(\[[^\]]*\]|[^:/]*):(\d+)", address)
    if not m:
        return address
    ip = canonical_ip(m.group(2))
    return f"{m.group(1).lower()}{'[' + ip + ']' if ':' in ip else ip}:{int(m.group(3))}"


def canonical_endpoint(address):
    """The ip:port of "scheme://ip:port" or of a tcp result's bare "ip:port" (IPv6 unbracketed,
    the port after the last colon) in canonical form, without the scheme; other text as is."""
    m = re.fullmatch(r"(\[[^\]]*\]|.*):(\d+)", address.split("://", 1)[-1])
    if not m:
        return address
    ip = canonical_ip(m.group(1))
    return f"{'[' + ip + ']' if ':' in ip else ip}:{int(m.group(2))}"


def endpoints_of(r):
    """The ip:port (canonical, any scheme) a record's request reached or tried (observed)."""
    observed = r.get("observed") or {}
    spelled = ([observed["address"]] if isinstance(observed.get("address"), str) else []) + [
        a for a in observed.get("tried") or [] if isinstance(a, str)]
    return [canonical_endpoint(a) for a in spelled]


control_results = {}  # control id -> [(ts, failed)] from the bundle's records
reached = {}  # "control:<id>" or a probe -> {ip:port: ts of its first record that reached or tried it}
answered = []  # provider requests that got an HTTP response: completion, in whole seconds rounded up
answered_at = {}  # probe -> sorted ts of its requests that got an HTTP response (target_unreached)
address_first = {}  # "scheme://ip:port" -> ts of the first response from it (observed.address; target_unreached)
first_ts = None  # the earliest ts in records.ndjson: nothing before it can be seen here
month_canonicals, previous = [], None
file_first, month_first = None, None  # (seq, prev_hash) of the file's first line; the month's first seq
for number, head, canonical, r in hashed_records(first_pass=True):
    first_ts = ms(r["ts"]) if first_ts is None else min(first_ts, ms(r["ts"]))
    if file_first is None:
        file_first = (int(head.group(1)), head.group(2))
    if month_first is None and month_start <= ms(r["ts"]) < month_end:
        month_first = int(head.group(1))
    previous = chained("records.ndjson", number, head, canonical, previous)
    if month_start <= ms(r["ts"]) < month_end:
        month_canonicals.append(canonical.encode("utf-8"))
    for endpoint in endpoints_of(r):
        seen_at = reached.setdefault(r["probe"], {})
        seen_at[endpoint] = min(seen_at.get(endpoint, ms(r["ts"])), ms(r["ts"]))
    if r["category"] == "@control" and r["probe"].startswith("control:"):
        failed = r["status"] is None and "agent_error" not in (r.get("flags") or [])
        control_results.setdefault(r["probe"][len("control:"):], []).append((ms(r["ts"]), failed))
    elif r["status"] is not None:
        answered.append(-(-(ms(r["ts"]) + r["duration_ms"]) // 1000))
        answered_at.setdefault(r["probe"], []).append(ms(r["ts"]))
        address = (r.get("observed") or {}).get("address")
        if isinstance(address, str):
            address = canonical_address(address)
            address_first[address] = min(address_first.get(address, ms(r["ts"])), ms(r["ts"]))
digest = hashlib.sha256(b"".join(c + b"\n" for c in sorted(month_canonicals))).hexdigest()
if digest != statement["sha256"] or len(month_canonicals) != statement["records"]:
    disputes.append(f"records.ndjson: the month's {len(month_canonicals)} records digest to {digest}, "
                    f"not the statement's {statement['records']} records, sha256 {statement['sha256']}")
del month_canonicals


def link_before_problem():
    """The record chained before the month's first must be in records.ndjson: it ties the month to
    what came before. Where retention pruned it, the month's first line must follow the chain
    anchor the signed checkpoint names (anchor_seq, anchor_hash) instead."""
    if month_first is None or month_first == 1 or file_first[0] == month_first - 1:
        return None
    try:
        signed = load("checkpoint.json")["statement"]
    except FileNotFoundError:
        signed = {}
    if file_first[0] == month_first and (signed.get("anchor_seq"), signed.get("anchor_hash")) == (month_first - 1, file_first[1]):
        return None
    return f"records.ndjson: the record chained before the month's first (seq {month_first - 1}) is missing"


if link_before_problem():
    disputes.append(link_before_problem())


def pruned_until():
    """Where the month's rollup days end: the newest prune record in inputs.ndjson names the day
    before which retention removed the records (their figures come from rollups); a store pruned
    before prune records: the month's first record when it follows the signed chain anchor."""
    before = None
    if os.path.exists("inputs.ndjson"):
        for line in load_ndjson("inputs.ndjson"):
            if line.get("kind") == "prune":
                day = ms(line["payload"]["before"] + "T00:00:00Z")
                before = day if before is None else max(before, day)
    if before is None and month_first is not None and month_first > 1 and file_first[0] == month_first:
        before = first_ts
    return before


def pruned_rollups(until):
    """The rows of rollups.ndjson for the month's pruned days (before `until`): each day's rows, one
    JSON line each, must digest to the sha256 of the day's newest rollup commitment in inputs.ndjson
    (read from its hashed bytes). A row: [probe, category, count_2xx, count_3xx, count_4xx, count_5xx,
    count_none, err_timeout, err_connect, err_dns, err_tls, err_reset, err_protocol, err_aborted,
    excluded, hex of the latency]."""
    committed, by_day, rows = {}, {}, []
    if os.path.exists("inputs.ndjson"):
        for _, _, _, o in hashed_lines("inputs.ndjson", "kind"):
            if o["kind"] == "rollup_commitment":
                committed[o["payload"]["day"]] = o["payload"]["sha256"]
    if os.path.exists("rollups.ndjson"):
        for line in load_ndjson("rollups.ndjson"):
            by_day.setdefault(line["day"], []).append(line["row"])
    day = month_start
    while day + DAY_MS <= min(until, month_end):
        iso = datetime.fromtimestamp(day / 1000, timezone.utc).date().isoformat()
        found = by_day.pop(iso, [])
        text = "".join(json.dumps(row, separators=(",", ":"), ensure_ascii=False) + "\n" for row in found)
        if (found or iso in committed) and hashlib.sha256(text.encode("utf-8")).hexdigest() != committed.get(iso):
            disputes.append(f"rollups.ndjson: the rollups of {iso} are not what its rollup commitment in inputs.ndjson says")
        rows += found
        day += DAY_MS
    for iso in by_day:
        disputes.append(f"rollups.ndjson: {iso} is not a day of {month} whose records retention pruned")
    return rows


def latency_us(text):
    """The latency of a rollup (hex): byte 0 is the format (1), then pairs of unsigned LEB128
    varints (value delta from the previous value, count), values in whole microseconds."""
    data, at, value, out = bytes.fromhex(text), 1, 0, []
    while at < len(data):
        numbers = []
        for _ in range(2):
            n, shift = 0, 0
            while True:
                byte = data[at]
                at += 1
                n |= (byte & 0x7F) << shift
                shift += 7
                if byte < 0x80:
                    break
            numbers.append(n)
        value += numbers[0]
        out += [value] * numbers[1]
    return out


until = pruned_until()
rollup_rows = pruned_rollups(until) if until is not None and until > month_start else []
for results in control_results.values():
    results.sort(key=lambda result: result[0])
answered.sort()
for times in answered_at.values():
    times.sort()


def on_path(cid, probe, ts):
    """Whether control cid reached (before ts) an address that the probe reached or tried (by ts):
    a control on the provider's own path is no witness for that probe's failures (contract 14)."""
    control, target = reached.get("control:" + cid, {}), reached.get(probe, {})
    return any(first < ts and endpoint in target and target[endpoint] <= ts for endpoint, first in control.items())


def witness(cid, ts, probe=None):
    """Whether control cid witnesses a provider failure sent at ts (contract section 14): its latest
    result before ts is a failure no older than its intervalMs + timeoutMs, whose run of failures
    began after the control answered in the 10 minutes before, with fewer than FLAPPING_RUNS earlier
    runs of failures and fewer than FLAPPING_FAILURES earlier failed results in those 10 minutes
    (not flapping), and no provider request got an HTTP
    response between the run's first timeout and that result. True, False, or None when the run or
    its 10 minutes began before the bundle's first record, so records.ndjson cannot tell."""
    if probe is not None and on_path(cid, probe, ts):
        return False
    control, seen = controls_at(ts)[0][cid], control_results.get(cid, [])
    fresh = control["intervalMs"] + control["timeoutMs"]
    i = bisect_left(seen, (ts,)) - 1  # (ts,) sorts before every (ts, failed)
    if i < 0:
        return None if ts - first_ts <= fresh else False
    if ts - seen[i][0] > fresh or not seen[i][1]:
        return False
    first = i
    while first > 0 and seen[first - 1][1]:
        first -= 1
    start = seen[first][0]
    if start - WITNESS_HEALTH_MS < first_ts:
        return None
    spell = range(bisect_left(seen, (start - WITNESS_HEALTH_MS,)), first)
    earlier_runs = sum(1 for j in spell if seen[j][1] and (j == 0 or not seen[j - 1][1]))
    earlier_failures = sum(1 for j in spell if seen[j][1])
    if earlier_runs >= FLAPPING_RUNS or earlier_failures >= FLAPPING_FAILURES or all(seen[j][1] for j in spell):
        return False
    k = bisect_left(answered, -(-(start + control["timeoutMs"]) // 1000))
    return not (k < len(answered) and answered[k] * 1000 <= seen[i][0])


def merchant_side_problem(record, ts, cited):
    if record.get("source") == "traffic" and "client_side" in (record.get("flags") or []):
        # The merchant's own client failed the request, by its span: no control needed.
        return None if record["status"] is None else "client_side, but the request was answered"
    if record["status"] is not None or record["error"] not in NETWORK_FAILURES:
        return "not a request that failed without a response of a network kind"
    names = [c["control"] for c in cited]
    controls, quorum = controls_at(ts)
    if len(set(names)) != len(names) or not set(names) <= set(controls) or len(names) < quorum:
        return f"cites controls {sorted(names)}, not {quorum} distinct of the configured {sorted(controls)}"
    for c in cited:
        at, control = ms(c["ts"]), controls[c["control"]]
        if not (0 < ts - at <= control["intervalMs"] + control["timeoutMs"]):
            return f"control {c['control']} result at {c['ts']} is not fresh at {record['ts']}"
        seen = control_results.get(c["control"], [])
        if not seen or min(t for t, _ in seen) > at:
            continue  # the cited result is older than the bundle's first record: not checkable here
        if (at, True) not in seen:
            return f"control {c['control']} has no failed result at {c['ts']} in records.ndjson"
        if any(at < t < ts for t, _ in seen):
            return f"control {c['control']} has a newer result before {record['ts']} than the one cited"
        if on_path(c["control"], record["probe"], ts):
            return (f"control {c['control']} was no witness at {record['ts']}: it reached an address the "
                    f"request's target had, on the provider's own path")
        if witness(c["control"], ts) is False:
            return (f"control {c['control']} was no witness at {record['ts']}: not answering in the 10 minutes "
                    f"before its failures began, flapping, or contradicted by a provider response")
    return None


def verdict_problem(record, category, ts, verdict):
    kind = verdict["verdict"]
    if kind == "counted":
        inside = covering(windows, category, ts) + covering(exclusions, category, ts)
        if inside:
            return f"counted, but inside {inside[0]}"
        if "agent_error" in (record.get("flags") or []):
            return "counted, but the record is flagged agent_error: the agent's own failure"
        if "client_side" in (record.get("flags") or []):
            return "counted, but the record is flagged client_side: the merchant's own client failed it"
        network_failure = record["status"] is None and record["error"] in NETWORK_FAILURES
        controls, quorum = controls_at(ts)
        witnesses = [cid for cid in sorted(controls) if network_failure and witness(cid, ts, record["probe"])]
        if controls and len(witnesses) >= quorum:
            return f"counted, but controls {witnesses} were failing witnesses then: merchant_side"
        return None
    if kind == "maintenance":
        return None if verdict["by"] in covering(windows, category, ts) else (
            f"excluded by maintenance {verdict['by']}, which does not qualify for it at this time")
    if kind == "exclusion":
        return None if verdict["by"] in covering(exclusions, category, ts) else (
            f"excluded by exclusion {verdict['by']}, which does not cover it")
    if kind == "merchant_side":
        return merchant_side_problem(record, ts, verdict["controls"])
    if kind == "agent_error":
        return None if "agent_error" in (record.get("flags") or []) else "agent_error, but the record has no agent_error flag"
    if kind == "target_unreached":
        return target_unreached_problem(record, ts, verdict.get("since"))
    return f"unknown verdict {kind}"


def made_connection(record):
    """Whether a request without a response got a connection: a phase after the connection's
    set-up was timed, or it failed as only an open connection can (reset, protocol)."""
    phases = record.get("phases") or {}
    timed = any(phases.get(k) is not None for k in ("connect_ms", "tls_ms", "request_sent_ms", "ttfb_ms"))
    return timed or record["error"] in ("reset", "protocol")


def target_unreached_problem(record, ts, since):
    """A target_unreached verdict holds on a request that got no connection (not the agent's own
    failure) when no request of the same probe got a response between `since` (when the probe's
    destination took effect, from the agent's input log; null: from the first record) and it.
    (The agent also counts answers of other probes to the same destination: this bundle holds
    one configuration, not which destination each probe had when.) Nor when any record got a
    response from an address the request tried (observed.tried): an alias of a server that
    answered is that server, whatever the destination."""
    if record["status"] is not None or "agent_error" in (record.get("flags") or []):
        return "target_unreached, but the request got a response or failed inside the agent"
    if made_connection(record):
        return "target_unreached, but the request got a connection to its target: the target was reached"
    times = answered_at.get(record["probe"], [])
    k = bisect_left(times, ms(since) if since else float("-inf"))
    if k < len(times) and times[k] < ts:
        return f"target_unreached, but the probe's target answered at {datetime.fromtimestamp(times[k] / 1000, timezone.utc).isoformat()} under the same configuration"
    for address in (record.get("observed") or {}).get("tried") or []:
        # In canonical form: [::ffff:127.0.0.1] or 0.0.0.0 is the 127.0.0.1 that answered.
        first = address_first.get(canonical_address(address))
        if first is not None and first < ts:
            return f"target_unreached, but {address}, which the request tried, answered at {datetime.fromtimestamp(first / 1000, timezone.utc).isoformat()}"
    return None


# --- The figures --------------------------------------------------------------------------------
tallies = {c: {"requests": 0, "successful": 0, "excluded": 0, "durations": [], "rollup_us": []} for c in categories}
excluded_by = {}  # ("exclusion", id) or ("maintenance", part_key) -> requests the verdicts exclude by it
for row in rollup_rows:
    # A pruned day counts from its rollups: counted requests by status class, the excluded apart.
    if row[1] in categories and decides({"source": "traffic" if row[0].startswith("traffic:") else None}):
        tally = tallies[row[1]]
        tally["requests"] += sum(row[2:7])
        tally["successful"] += sum(row[2:5])
        tally["excluded"] += row[14]
        tally["rollup_us"] += latency_us(row[15]) if row[15] else []
for _, _, _, r in hashed_records():
    ts, category = ms(r["ts"]), r["category"]
    if not (month_start <= ts < month_end) or category not in categories or not decides(r):
        continue
    if until is not None and ts < until:
        continue  # a record of a pruned day a prune had to keep: counted in its day's rollups
    found = verdicts.pop(identity(r), [])
    if len(found) != 1:
        disputes.append(f"{r['ts']} {r['probe']}: {len(found)} verdicts in classification.ndjson, expected 1")
        continue
    problem = verdict_problem(r, category, ts, found[0])
    if problem:
        disputes.append(f"{r['ts']} {r['probe']}: {problem}")
    tally = tallies[category]
    if found[0]["verdict"] != "counted":
        tally["excluded"] += 1
        if found[0]["verdict"] in ("maintenance", "exclusion"):
            by = found[0]["by"] if found[0]["verdict"] == "exclusion" else part_key(found[0]["by"], category, ts)
            excluded_by[(found[0]["verdict"], by)] = excluded_by.get((found[0]["verdict"], by), 0) + 1
        continue
    tally["requests"] += 1
    if r["status"] is not None and 200 <= r["status"] <= 499:
        tally["successful"] += 1
    if r["status"] is not None or r["error"] == "timeout":
        duration = r["duration_ms"]
        if r["error"] == "timeout" and r["probe"] in timeouts:
            duration = max(duration, timeouts[r["probe"]])
        tally["durations"].append(duration)
for key in verdicts:
    disputes.append(f"{key[0]} {key[1]}: has a verdict but no record of the month in records.ndjson")


def availability(successful, requests):
    return None if requests == 0 else successful * 100 / requests


def p99(durations, rollup_us):
    """Nearest rank. Where rollups count (pruned days), the agent's p99 is its HDR histogram's (3
    significant digits, whole microseconds): the highest value of the ranked value's bucket."""
    if not rollup_us:
        return sorted(durations)[-(-99 * len(durations) // 100) - 1] if durations else None  # the ceil(0.99 n)-th
    values = sorted(rollup_us + [math.floor(d * 1000 + 0.5) for d in durations])
    at = (99 / 100.0) * len(values)
    us = values[max(math.ceil(at - math.ulp(at)), 1) - 1]
    bucket = max(us.bit_length() - 1 - 10, 0)  # HDR: 2048 sub-buckets, half of them per doubling
    sub = us >> bucket
    return ((sub << bucket) + (1 << (bucket + 1 if sub >= 2048 else bucket)) - 1) / 1000


def pct(ratio):
    """A configured ratio (0.99) as the decimal percentage it was written as (99), exactly."""
    return Fraction(repr(float(f"{ratio * 100:.12g}")))


def credit(successful, requests):
    tiers = config["sla"]["credits"]
    if not tiers or requests == 0:
        return None
    under = [t for t in tiers if Fraction(successful * 100, requests) < pct(t["belowRatio"])]
    return min(under, key=lambda t: t["belowRatio"])["creditPct"] if under else 0


figures = {"categories": [], "service_classes": []}
for cid in sorted(categories):
    t = tallies[cid]
    figures["categories"].append({
        "category": cid, "requests": t["requests"], "successful": t["successful"], "excluded": t["excluded"],
        "availability_pct": availability(t["successful"], t["requests"]),
        "latency_p99_ms": p99(t["durations"], t["rollup_us"]),
    })
for sid in sorted(config["serviceClasses"]):
    members = [tallies[c] for c in categories if categories[c]["serviceClass"] == sid]
    requests = sum(m["requests"] for m in members)
    successful = sum(m["successful"] for m in members)
    figures["service_classes"].append({
        "service_class": sid, "availability_pct": availability(successful, requests),
        "credit_pct": credit(successful, requests),
    })
print(json.dumps(figures, indent=2))

# --- The report's figures, compared -------------------------------------------------------------
try:
    report = load("report.json")
except FileNotFoundError:
    report = None


def tie_report(report):
    """report.json must be about this bundle: its month, records, configuration and key."""
    evidence, signature = report["evidence"], load("signature.json")
    with open("public_key.pem", encoding="utf-8") as f:
        public_key = f.read()
    for what, stated, bundle in (
        ("month", report["month"], month),
        ("evidence.records", evidence["records"], statement["records"]),
        ("evidence.sha256", evidence["sha256"], statement["sha256"]),
        ("evidence.config_sha256", evidence.get("config_sha256"), sha256_of("configuration.json")),
        ("report_signature.key_id", report["report_signature"]["key_id"], signature["key_id"]),
        ("evidence.signature.public_key_pem", evidence["signature"]["public_key_pem"], public_key),
    ):
        if stated != bundle:
            disputes.append(f"report.json {what}: {stated!r}, but this bundle's is {bundle!r}")
    if evidence.get("verified") is False:
        disputes.append("report.json: UNVERIFIED: the report says its evidence did not verify")


if report is not None:
    tie_report(report)
    for section, key in (("categories", "category"), ("service_classes", "service_class")):
        stated = {row[key]: row for row in report[section]}
        recomputed = {row[key]: row for row in figures[section]}
        for missing in sorted(set(stated) ^ set(recomputed)):
            where = "report.json" if missing in stated else "the recomputation"
            disputes.append(f"report.json {section} {missing}: only in {where}")
        for name in sorted(set(stated) & set(recomputed)):
            for field, value in recomputed[name].items():
                if stated[name].get(field, "absent") != value:
                    disputes.append(f"report.json {section} {name} {field}: "
                                    f"{stated[name].get(field, 'absent')!r}, recomputed {value!r}")


def check_window_verdicts():
    """maintenance.json's verdict on each window and exclusion (qualified, excluded_requests) must
    be the one recomputed from the configuration, the feed's windows and the records' verdicts;
    each part of a window changed late counts the requests it excluded (an unqualified one, none)."""
    for w in maintenance["windows"]:
        if w["id"] in declared_histories:  # a declared window's history: the versions the log gives
            stated = [(ms(v["seen_at"]), ms(v["start"]), ms(v["end"]), sorted(v["categories"]))
                      for v in w.get("history", [])]
            logged = [(v["seenAt"], v["start"], v["end"], ["all"] if v["categories"] == "all" else sorted(v["categories"]))
                      for v in declared_histories[w["id"]]]
            if stated != logged:
                disputes.append(f"maintenance.json windows {w['id']}: its history is not the versions the "
                                f"configuration records of inputs.ndjson give")
        # One entry per notice part of a moved window: the part qualifies when a qualifying part of
        # the same window starts where it starts, over the same categories.
        part = (w["id"], ms(w["start"]), scope_key(w["categories"]))
        qualified = any((q[0], q[1], scope_key(q[3])) == part for q in windows)
        if w["qualified"] != qualified:
            disputes.append(f"maintenance.json windows {w['id']} qualified: {w['qualified']!r}, "
                            f"recomputed {qualified!r}")
        counted = excluded_by.get(("maintenance", part), 0)
        if w["excluded_requests"] != counted:
            disputes.append(f"maintenance.json windows {w['id']} excluded_requests: {w['excluded_requests']!r}, "
                            f"recomputed {counted!r}")
    for e in maintenance["exclusions"]:
        counted = excluded_by.get(("exclusion", e["id"]), 0)
        if e["excluded_requests"] != counted:
            disputes.append(f"maintenance.json exclusions {e['id']} excluded_requests: {e['excluded_requests']!r}, "
                            f"recomputed {counted!r}")


# --- The configuration, against the configurations the agent ran with ---------------------------
# The maintenance policy is left out: the month is judged by the one the log held (month_policy).
FIGURE_SECTIONS = (("serviceClasses",), ("categories",), ("sla",), ("exclusions",), ("controls",))


def section(configuration, keys):
    for key in keys:
        configuration = (configuration or {}).get(key)
    return configuration


def probe_terms(configuration):
    """What of a probe decides figures: its category, its timeout and its schedule (every: or
    schedule:, which sets coverage, the interleaving gap and how near failures merge)."""
    return {p["id"]: {"category": p.get("category"), "timeoutMs": p.get("timeoutMs"), "schedule": p.get("schedule")}
            for p in configuration.get("probes") or []}


def by_id(items):
    ids = [item.get("id") if isinstance(item, dict) else None for item in items]
    if all(isinstance(i, str) for i in ids) and len(set(ids)) == len(ids):
        return dict(zip(ids, items))
    return None


def differences(given, logged, path):
    """Where two configurations differ: [(path, given, logged)]; lists of things with ids by id."""
    if isinstance(given, dict) and isinstance(logged, dict):
        return [d for key in sorted(set(given) | set(logged))
                for d in differences(given.get(key), logged.get(key), f"{path}.{key}")]
    if isinstance(given, list) and isinstance(logged, list) and by_id(given) is not None and by_id(logged) is not None:
        return differences(by_id(given), by_id(logged), path)
    return [] if given == logged else [(path, given, logged)]


def check_configuration():
    """configuration.json must be one of the configurations the agent recorded for the month (the
    newest loaded before it began and each loaded inside it, from inputs.ndjson): one that differs
    from the newest of them in an objective, target, category, credit, exclusion, control or a
    probe's category, timeout or schedule made figures or verdicts the log does not
    bear out. A log without configuration records (a store filled by import) has none to compare."""
    if not os.path.exists("inputs.ndjson"):
        return
    loaded = [(seen_at, o["payload"]) for _, _, _, o, seen_at in seen_inputs() if o["kind"] == "config"]
    before = [payload for at, payload in loaded if at <= month_start][-1:]
    in_force = before + [payload for at, payload in loaded if month_start < at < month_end]
    # Every configuration the agent loads has categories: a record without is none to compare with.
    if not in_force or config in in_force or "categories" not in (in_force[-1] or {}):
        return
    found = [d for keys in FIGURE_SECTIONS
             for d in differences(section(config, keys), section(in_force[-1], keys), ".".join(keys))]
    found += differences(probe_terms(config), probe_terms(in_force[-1]), "probes")
    for path, given, logged in found:
        disputes.append(f"configuration.json {path}: {json.dumps(given)}, but the configuration the agent "
                        f"last recorded for {month} has {json.dumps(logged)}")


check_window_verdicts()
check_configuration()
for line in disputes:
    print(line, file=sys.stderr)
sys.exit(1 if disputes else 0)
