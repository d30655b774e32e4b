-- SPDX-License-Identifier: BSD-3-Clause
--
-- trackgate-rate.lua - pktgen-dpdk script: replay a tg-gen pcap into
-- trackgate and report what comes back.  docs/benchmarking.md says how to
-- start pktgen with it (`-s 0:FILE.pcap ... -f tools/pktgen/trackgate-rate.lua`).
--
-- Port TX_PORT replays the pcap (pktgen's -s P:file) into trackgate's link;
-- RX_PORT receives what trackgate releases to the peer(s) wired back to the
-- generator.  For each load in RATES (percent of TX_PORT's line rate) it starts
-- traffic, lets it settle, samples pktgen.portStats every second for SECONDS
-- and prints the mean tx/rx packet and bit rates, then a summary line per load
-- that a script can grep ("RESULT rate=...").
--
-- Uses pktgen's Lua API (pktgen.pcap, pktgen.set, pktgen.start/stop,
-- pktgen.clr, pktgen.delay, pktgen.linkState, pktgen.portStats(..., "rate")
-- with pkts_rx/pkts_tx/mbits_rx/mbits_tx and (..., "port") with
-- ipackets/opackets/imissed/ierrors), as pktgen-dpdk 23.03.0 has it; run for
-- real by tools/pktgen/run.sh, and against a stub of that API by
-- tests/unit/test_pktgen_script.lua.  Override the defaults by setting the
-- globals before loading this file, e.g. in a wrapper script:
--     TX_PORT = "0"; RX_PORT = "1"; RATES = {10, 50, 90, 100}; SECONDS = 10
--     BURST = 1   -- for latency: frames evenly spaced, not in line-rate bursts
--     WAIT_LINK_MS = 60000  -- how long to wait for both links to come up
--     dofile("tools/pktgen/trackgate-rate.lua")
--
-- Before the sweep it waits until both ports' links are up: over net_memif
-- pktgen's ports are the servers, and the trackgate side (the clients) is
-- started only once pktgen runs this script.  Each load's measuring window
-- starts with a line "trackgate-rate: window rate=P seconds=S" and ends with
-- "trackgate-rate: window end rate=P" (still sending), so that a wrapper can
-- read trackgate's own counters over the same window (tools/pktgen/run.sh
-- does); the load's RESULT line follows.

package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
pcall(require, "Pktgen")
-- printf comes from pktgen's Pktgen.lua, found only when pktgen runs in its
-- source directory.
if printf == nil then
    printf = function(...) io.write(string.format(...)); io.flush() end
end

local tx_port = TX_PORT or "0"
local rx_port = RX_PORT or "1"
local rates   = RATES or {10, 50, 90, 100}
local seconds = SECONDS or 10
local settle_ms = SETTLE_MS or 2000
local burst   = BURST   -- nil: pktgen's own TX burst size
local wait_link_ms = WAIT_LINK_MS or 60000

local function num(port_tbl, key)
    local v = port_tbl and port_tbl[key]
    return tonumber(v) or 0
end

local function sample(port)
    local r = pktgen.portStats(port, "rate")
    return r[tonumber(port)]
end

local function totals(port)
    local s = pktgen.portStats(port, "port")
    return s[tonumber(port)]
end

pktgen.screen("off")
pktgen.stop("all")
-- Replay the pcap given with -s TX_PORT:file, forever, at the set rate.
pktgen.pcap(tx_port, "on")
pktgen.set(tx_port, "count", 0)
if burst then
    -- pktgen sends `burst` frames back to back at line rate; at a fractional
    -- rate the guard then sees bursts, and a burst's last frame waits for
    -- the others to be decided.  1 measures per-message transit latency.
    pktgen.set(tx_port, "burst", burst)
end

printf("trackgate-rate: pcap replay on port %s, trackgate's releases on port %s\n",
       tx_port, rx_port)

-- Both links up.  dpdk.linkState asks the port now, where pktgen has that
-- library (23.03.0 as tools/pktgen/build.sh builds it has not);
-- pktgen.linkState gives what pktgen last read, and pktgen refreshes that
-- only for the screen (off here) and for the first port of each TX lcore:
-- with it, wait for TX_PORT only.  Both give "<UP-speed-FD>" or "<--Down-->".
local live = type(dpdk) == "table" and type(dpdk.linkState) == "function"
local link_state = live and dpdk.linkState or pktgen.linkState
local function link_txt(port)
    local st = link_state(port)
    return tostring(st and st[tonumber(port)])
end
local function link_up(port)
    return link_txt(port):find("UP", 1, true) ~= nil
end
local function links_up()
    return link_up(tx_port) and (not live or link_up(rx_port))
end
local waited = 0
while not links_up() and waited < wait_link_ms do
    pktgen.delay(100)
    waited = waited + 100
end
printf("trackgate-rate: links %s after %d ms (port %s %s, port %s %s%s)\n",
       links_up() and "up" or "still down", waited, tx_port, link_txt(tx_port),
       rx_port, link_txt(rx_port), live and "" or ", not waited for")
printf("%6s %12s %12s %10s %10s %10s\n",
       "rate%", "tx pps", "rx pps", "tx Mbit/s", "rx Mbit/s", "rx/tx")

for _, pct in ipairs(rates) do
    pktgen.set(tx_port, "rate", pct)
    pktgen.clr()
    pktgen.start(tx_port)
    pktgen.delay(settle_ms)

    printf("trackgate-rate: window rate=%d seconds=%d\n", pct, seconds)
    local tx_pps, rx_pps, tx_mb, rx_mb = 0, 0, 0, 0
    local t0 = totals(tx_port)
    local r0 = totals(rx_port)
    for _ = 1, seconds do
        pktgen.delay(1000)
        local t = sample(tx_port)
        local r = sample(rx_port)
        tx_pps = tx_pps + num(t, "pkts_tx")
        tx_mb  = tx_mb  + num(t, "mbits_tx")
        rx_pps = rx_pps + num(r, "pkts_rx")
        rx_mb  = rx_mb  + num(r, "mbits_rx")
    end
    local t1 = totals(tx_port)
    local r1 = totals(rx_port)
    printf("trackgate-rate: window end rate=%d\n", pct)
    pktgen.stop(tx_port)
    pktgen.delay(500)

    tx_pps, rx_pps = tx_pps / seconds, rx_pps / seconds
    tx_mb, rx_mb = tx_mb / seconds, rx_mb / seconds
    local ratio = tx_pps > 0 and rx_pps / tx_pps or 0
    printf("%6d %12.0f %12.0f %10.0f %10.0f %10.3f\n",
           pct, tx_pps, rx_pps, tx_mb, rx_mb, ratio)
    printf("RESULT rate=%d tx_pps=%.0f rx_pps=%.0f tx_mbps=%.0f rx_mbps=%.0f " ..
           "opackets=%d ipackets=%d imissed=%d\n",
           pct, tx_pps, rx_pps, tx_mb, rx_mb,
           num(t1, "opackets") - num(t0, "opackets"),
           num(r1, "ipackets") - num(r0, "ipackets"),
           num(r1, "imissed") - num(r0, "imissed"))
end

-- trackgate's own view (messages, drops, latency) is read on the trackgate
-- host: tgctl stats --json, and the /trackgate/latency telemetry endpoint.
printf("trackgate-rate: done\n")
if QUIT_WHEN_DONE ~= false then
    pcall(pktgen.quit)
end
