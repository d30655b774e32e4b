-- SPDX-License-Identifier: BSD-3-Clause
--
-- test_pktgen_script.lua - tools/pktgen/trackgate-rate.lua against a stub of
-- the pktgen Lua API it uses (pktgen-dpdk is not packaged in Debian 12, so
-- the real one cannot run here).  The stub records every call and serves
-- counters that grow at known rates; the test checks that the script sets
-- each load and the burst, waits for both links to come up, marks each
-- window, and prints the rates the stub served in its RESULT lines.  The stub
-- gives no printf (pktgen's comes from Pktgen.lua, which is found only in
-- pktgen's source directory): the script must bring its own.
-- Run: lua5.4 test_pktgen_script.lua SCRIPT.  TAP output.

local script = arg[1] or "tools/pktgen/trackgate-rate.lua"
local calls, out, now_ms = {}, {}, 0
local TX_PPS, RX_PPS = 812345, 401234 -- what the stub's ports do per second
local LINK_UP_MS = 1500                 -- the links come up this late (stub time)

local function log(...)
    calls[#calls + 1] = table.concat({...}, " ")
end

local function counters(port)
    local secs = now_ms / 1000
    return {opackets = math.floor(TX_PPS * secs), ipackets = math.floor(RX_PPS * secs),
            imissed = 0, ierrors = 0}
end

pktgen = {
    screen = function(v) log("screen", v) end,
    stop = function(p) log("stop", p) end,
    start = function(p) log("start", p) end,
    pcap = function(p, v) log("pcap", p, v) end,
    set = function(p, what, v) log("set", p, what, tostring(v)) end,
    clr = function() log("clr") end,
    delay = function(ms) now_ms = now_ms + ms end,
    quit = function() log("quit") end,
    -- what pktgen last read: never refreshed for a port without TX (the stub
    -- says down); the script must ask dpdk.linkState instead
    linkState = function(p)
        log("pktgen.linkState", p)
        return {[tonumber(p)] = "<--Down-->", n = 1}
    end,
    portStats = function(p, kind)
        local n = tonumber(p)
        if kind == "rate" then
            return {[n] = {pkts_tx = n == 0 and TX_PPS or 0, pkts_rx = n == 1 and RX_PPS or 0,
                           mbits_tx = n == 0 and 5500 or 0, mbits_rx = n == 1 and 2700 or 0}}
        end
        return {[n] = counters(p)}
    end,
}
-- pktgen's dpdk library: the live link state; both links come up at LINK_UP_MS.
dpdk = {
    linkState = function(p)
        log("linkState", p)
        return {[tonumber(p)] = now_ms >= LINK_UP_MS and "<UP-10000-FD>" or "<--Down-->", n = 1}
    end,
}
-- What the script writes (through its own printf), line by line.
local partial = ""
io.write = function(...)
    partial = partial .. table.concat({...})
    for line in partial:gmatch("([^\n]*)\n") do out[#out + 1] = line .. "\n" end
    partial = partial:match("[^\n]*$")
end
local start_ms = {} -- stub time at each start
local real_start = pktgen.start
pktgen.start = function(p) start_ms[#start_ms + 1] = now_ms; real_start(p) end

RATES = {10, 50}
SECONDS = 3
SETTLE_MS = 100
BURST = 1

local n, failed = 0, 0
local function check(ok, what)
    n = n + 1
    if not ok then failed = failed + 1 end
    print((ok and "ok " or "not ok ") .. n .. " - " .. what)
end
local function called(s)
    for _, c in ipairs(calls) do if c == s then return true end end
    return false
end

local ok, err = pcall(dofile, script)
check(ok, "the script runs to the end" .. (ok and "" or (": " .. tostring(err))))
check(called("pcap 0 on") and called("set 0 count 0"), "pcap replay on the TX port, forever")
check(called("linkState 0") and called("linkState 1"), "both links' states are read")
local up_line = false
for _, l in ipairs(out) do
    if l:find("trackgate-rate: links up after " .. LINK_UP_MS .. " ms", 1, true) == 1 then
        up_line = true
    end
end
check(up_line, "it waits until both links are up, and says after how long")
check(#start_ms > 0 and start_ms[1] >= LINK_UP_MS, "no load starts before the links are up")
check(called("set 0 burst 1"), "BURST sets pktgen's TX burst")
check(called("set 0 rate 10") and called("set 0 rate 50"), "every load of RATES is set")
local results = {}
for _, l in ipairs(out) do
    local rate, tx, rx = l:match("^RESULT rate=(%d+) tx_pps=(%d+) rx_pps=(%d+)")
    if rate then results[#results + 1] = {tonumber(rate), tonumber(tx), tonumber(rx), l} end
end
check(#results == 2, "one RESULT line per load (" .. #results .. ")")
-- Each window's start (with its load and length) and end are marked before
-- its RESULT line.
local seq = {}
for _, l in ipairs(out) do
    local w = l:match("^trackgate%-rate: window rate=(%d+) seconds=" .. SECONDS .. "\n$")
    if w then seq[#seq + 1] = "w" .. w end
    local e = l:match("^trackgate%-rate: window end rate=(%d+)\n$")
    if e then seq[#seq + 1] = "e" .. e end
    local r = l:match("^RESULT rate=(%d+)")
    if r then seq[#seq + 1] = "r" .. r end
end
check(table.concat(seq, " ") == "w10 e10 r10 w50 e50 r50",
      "each window's start and end marked before its RESULT line (" ..
      table.concat(seq, " ") .. ")")
for _, r in ipairs(results) do
    check(r[2] == TX_PPS and r[3] == RX_PPS,
          "load " .. r[1] .. ": the rates the ports served (" .. r[4]:gsub("\n", "") .. ")")
    local op = tonumber(r[4]:match("opackets=(%d+)"))
    check(op and math.abs(op - TX_PPS * SECONDS) <= TX_PPS * 0.01,
          "load " .. r[1] .. ": opackets over the window is rate x SECONDS")
end
check(called("quit"), "pktgen is told to quit when done")
print("1.." .. n)
print(string.format("%d passed, %d failed", n - failed, failed))
os.exit(failed == 0 and 0 or 1)
