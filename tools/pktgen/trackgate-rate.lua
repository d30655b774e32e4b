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
-- Written against pktgen's documented Lua API (pktgen.pcap, pktgen.set,
-- pktgen.start/stop, pktgen.clr, pktgen.delay, pktgen.portStats(..., "rate")
-- with pkts_rx/pkts_tx/mbits_rx/mbits_tx and (..., "port") with
-- ipackets/opackets/imissed/ierrors).  Not run against a real pktgen here
-- (pktgen-dpdk is not packaged in Debian 12); tests/unit/test_pktgen_script.lua
-- runs it against a stub of that API.  Override the defaults by setting the
-- globals before loading this file, e.g. in a wrapper script:
--     TX_PORT = "0"; RX_PORT = "1"; RATES = {10, 50, 90, 100}; SECONDS = 10
--     BURST = 1   -- for latency: frames evenly spaced, not in line-rate bursts
--     dofile("tools/pktgen/trackgate-rate.lua")

package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
pcall(require, "Pktgen")

local tx_port = TX_PORT or "0"
local rx_port = RX_PORT or "1"
local rates   = RATES or {10, 50, 90, 100}
local seconds = SECONDS or 10
local settle_ms = SETTLE_MS or 2000
local burst   = BURST   -- nil: pktgen's own TX burst size

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
printf("%6s %12s %12s %10s %10s %10s\n",
       "rate%", "tx pps", "rx pps", "tx Mbit/s", "rx Mbit/s", "rx/tx")

for _, pct in ipairs(rates) do
    pktgen.set(tx_port, "rate", pct)
    pktgen.clr()
    pktgen.start(tx_port)
    pktgen.delay(settle_ms)

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
