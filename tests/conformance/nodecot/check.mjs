// SPDX-License-Identifier: BSD-3-Clause
// check.mjs - what trackgate released, read back with node-cot and compared
// with the events gen.mjs made.
//
//   node check.mjs --cases cases.json --out released.json
//                  [--stats stats.json] [--audit audit.jsonl] [--mutate NAME]
//   node check.mjs --cases cases.json --simulate [--mutate NAME]
//
// released.json: {"peers": {"usa-raw": [hex payload, ...], "kor-xml": [...]}}
// (the UDP payloads of each peer's output pcap, in order).  --simulate makes
// them from the cases with our own reading of docs/release.md §6 instead, to
// test this script without trackgate.  --mutate damages the outputs (or the
// counters) in one way before checking, to show that the check catches it
// (test_takproto_nodecot.sh runs every mutation and wants a failure each).
//
// Prints one ok/not ok line per check, the node-cot quirks it normalised,
// a summary; exit 0 only when everything matched.
import fs from 'node:fs';
import CoT from '@tak-ps/node-cot';
import * as L from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const flag = (name) => args.includes(name);

const MUTATIONS = {
	'raw-bit': 'one bit of the first v1 release to usa-raw flipped',
	'raw-missing': 'the first release to usa-raw left out (a missed release)',
	'raw-extra': 'the v1-dup-access payload added to usa-raw (a wrongful release)',
	'xml-lat-ulp': 'the lat of the v1-interceptor-numbers conversion one unit in the last place off',
	'xml-caveat': 'caveat="…" taken out of the v1-ssm-full conversion',
	'xml-releasableto': 'releasableTo="USA KOR" changed to "USA" in the v1-ssm-full conversion',
	'xml-callsign': 'a letter of the callsign changed in the v1-ssm-full conversion',
	'xml-link': 'the second <link> taken out of the v1-ssm-full conversion',
	'xml-time': 'the stale time of the v1-ssm-full conversion one millisecond late',
	'xml-takcontrol': 'the takControl contactUid left in the v1-takcontrol-and-event conversion',
	'stats-tak-control': 'tak_control counted 0 (stats)',
	'audit-encoding': 'the audit record of v1-ssm-full says encoding xml',
};
if (flag('--list-mutations')) {
	const d = opt('--describe');
	console.log(d ? MUTATIONS[d] : Object.keys(MUTATIONS).join('\n'));
	process.exit(0);
}

const { cases, nodecot_version } = JSON.parse(fs.readFileSync(opt('--cases')));
const PEERS = { 'usa-raw': 'as-received', 'kor-xml': 'xml' };
const byName = Object.fromEntries(cases.map((c) => [c.name, c]));

let passes = 0, fails = 0;
const failed = [];
const ok = (d) => { passes++; console.log(`ok - ${d}`); };
const notOk = (d, detail = []) => {
	fails++; failed.push(d);
	console.log(`not ok - ${d}`);
	for (const l of detail) console.log(`#   ${l}`);
};
const check = (d, problems) => (problems.length ? notOk(d, problems) : ok(d));

// ------------------------------------------------ node-cot's quirks, counted
const QUIRKS = {
	flow_tags: 'node-cot stamps <_flow-tags_ NodeCoT-x="now"> into every CoT it constructs (and so into xmlDetail): ignored',
	metadata: 'node-cot\'s to_proto() writes <metadata/> into xmlDetail (its own key/value store): ignored',
	empty_qos_opex: 'node-cot\'s from_proto() sets qos="" and opex="" when the event has none: read as absent',
	times: 'times compared as instants: from_proto() and the conversion write .000Z, the source "…:00Z"',
	numbers: 'numbers compared as doubles: node-cot\'s schema (AJV coerceTypes) turns some attributes into numbers, others stay strings',
	group_in_xmldetail: 'node-cot keeps <__group> in xmlDetail, never the typed Detail.group: compared as a detail element',
	no_16_17: 'node-cot\'s .proto has no CotEvent 16/17: to_proto() drops caveat/releasableTo silently, from_proto() cannot show them: read with our own protobuf walker and XML attribute parsing',
	single_link: 'node-cot gives one <link> as an object, several as an array: compared as a list',
	replaces_submessage: 'protobufjs (node-cot) lets a repeated submessage replace the first (protobuf merges): why trackgate refuses it (dup_elem)',
	last_access: 'protobufjs (node-cot) takes the last of two access fields: why trackgate refuses it (dup_marking)',
	empty_typed: 'node-cot\'s from_proto() gives absent strings of a typed Contact/Takv as "" (protobufjs defaults): read as absent',
	typed_contact_wins: 'node-cot\'s from_proto() lets a typed Contact replace a <contact> in xmlDetail (TAK and release.md §2: the xmlDetail copy wins): its reading differs there',
	cdata: 'node-cot (xml-js) keeps CDATA apart from text (_cdata): remarks compared as their text',
	negzero: 'node-cot\'s from_proto() turns a point\'s -0 into "0" (its schema coerces the number to a string): the sign of zero is not compared there (it is in the conversion)',
	precisionlocation: 'node-cot loses <precisionlocation> (typed field named precisionLocation, looked up as precisionlocation): not used in any case',
};
const quirkCount = Object.fromEntries(Object.keys(QUIRKS).map((k) => [k, 0]));
const quirk = (k) => { quirkCount[k]++; };

// ------------------------------------------------ the event as node-cot reads it
const num = (v) => { if (v === undefined) return undefined; quirk('numbers'); return Number(v); };
const str = (v) => (v === undefined ? undefined : String(v));
const inst = (v) => { quirk('times'); return Date.parse(v); };

// A canonical view of a CoT object (node-cot's raw tree): every field the
// conformance test compares.  Unknown detail children are kept (raw) so that
// anything lost or added shows.
function view(cot, fromProto = false) {
	const a = cot.raw.event._attributes;
	const p = cot.raw.event.point._attributes;
	const d = { ...(cot.raw.event.detail ?? {}) };
	const v = {
		type: a.type, uid: a.uid, how: a.how, access: a.access,
		time: inst(a.time), start: inst(a.start), stale: inst(a.stale),
		lat: num(p.lat), lon: num(p.lon), hae: num(p.hae), ce: num(p.ce), le: num(p.le),
	};
	for (const k of ['qos', 'opex']) {
		if (a[k] === '') quirk('empty_qos_opex');
		else if (a[k] !== undefined) v[k] = a[k];
	}
	if ('_flow-tags_' in d) { quirk('flow_tags'); delete d['_flow-tags_']; }
	if ('metadata' in d) { quirk('metadata'); delete d.metadata; }
	const at = (k) => {
		const o = d[k]?._attributes;
		if (!fromProto || !o) return o;
		const r = {};
		for (const n in o) {   // for...in: protobufjs keeps its defaults on the prototype
			if (typeof o[n] === 'function') continue;
			if (o[n] === '') quirk('empty_typed'); else r[n] = o[n];
		}
		return r;
	};
	if (d.contact) v.contact = { callsign: str(at('contact')?.callsign), endpoint: str(at('contact')?.endpoint) };
	if (d.track) v.track = { speed: num(at('track')?.speed), course: num(at('track')?.course) };
	if (d.remarks) {
		if (d.remarks._cdata !== undefined) quirk('cdata');
		v.remarks = (d.remarks._text ?? '') + (d.remarks._cdata ?? '');
	}
	if (d.__group) { quirk('group_in_xmldetail'); v.group = { name: str(at('__group')?.name), role: str(at('__group')?.role) }; }
	if (d.status) v.status = { battery: num(at('status')?.battery) };
	if (d.takv) v.takv = { device: str(at('takv').device), platform: str(at('takv').platform), os: str(at('takv').os), version: str(at('takv').version) };
	if (d.link) {
		const ls = Array.isArray(d.link) ? d.link : (quirk('single_link'), [d.link]);
		v.links = ls.map((l) => ({ uid: str(l._attributes?.uid), relation: str(l._attributes?.relation), type: str(l._attributes?.type) }));
	}
	if (d.sensor) v.sensor = Object.fromEntries(Object.entries(at('sensor') ?? {}).map(([k, x]) => [k, /^[0-9.+-]/.test(String(x)) ? num(x) : x]));
	if (d.precisionlocation) quirk('precisionlocation');
	for (const k of ['contact', 'track', 'remarks', '__group', 'status', 'takv', 'link', 'sensor']) delete d[k];
	if (Object.keys(d).length) v.other_detail = d;
	return v;
}

// Field-by-field differences between two views.
function diff(want, got, path = '', opts = {}) {
	const out = [];
	const keys = new Set([...Object.keys(want ?? {}), ...Object.keys(got ?? {})]);
	for (const k of keys) {
		const w = want?.[k], g = got?.[k], p = path ? `${path}.${k}` : k;
		if (w && typeof w === 'object' && g && typeof g === 'object') out.push(...diff(w, g, p, opts));
		else if (typeof w === 'number' && typeof g === 'number') {
			if (opts.signedZero === false && w === 0 && g === 0 && !Object.is(w, g)) quirk('negzero');
			else if (!Object.is(w, g)) out.push(`${p}: want ${w} (${L.fmtNum(w)}), got ${g} (${L.fmtNum(g)})`);
		} else if (w !== g) out.push(`${p}: want ${JSON.stringify(w)}, got ${JSON.stringify(g)}`);
	}
	return out;
}

// ------------------------------------------------ the released payloads
let released;
let stats = null, audit = null;
if (flag('--simulate')) {
	// What docs/release.md says each peer gets, made with our own reading.
	released = { peers: { 'usa-raw': [], 'kor-xml': [] } };
	for (const c of cases) {
		if (c.release['usa-raw']) released.peers['usa-raw'].push(c.payload);
		if (c.release['kor-xml']) {
			if (c.encoding === 'xml') released.peers['kor-xml'].push(c.payload);
			else released.peers['kor-xml'].push(L.hex(new TextEncoder().encode(
				L.referenceXml(L.decodeTak(L.unhex(c.payload).subarray(3)).event))));
		}
	}
	console.log('# --simulate: peer outputs made from docs/release.md §6 by lib.mjs, not by trackgate');
} else {
	released = JSON.parse(fs.readFileSync(opt('--out')));
	if (opt('--stats')) stats = JSON.parse(fs.readFileSync(opt('--stats')));
	if (opt('--audit')) audit = fs.readFileSync(opt('--audit'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// ------------------------------------------------ mutations (the check must fail)
const mutate = opt('--mutate');
if (mutate) {
	if (!MUTATIONS[mutate]) { console.error(`unknown mutation ${mutate}; known: ${Object.keys(MUTATIONS).join(' ')}`); process.exit(2); }
	console.log(`# --mutate ${mutate}: ${MUTATIONS[mutate]} (this run must fail)`);
	const raw = released.peers['usa-raw'], xml = released.peers['kor-xml'];
	const txt = (h) => Buffer.from(h, 'hex').toString('utf8');
	const conv = (uid) => xml.findIndex((h) => txt(h).includes(`uid="${uid}"`) && !byName['xml-plain'].payload.includes(h));
	const edit = (uid, f) => { const i = conv(uid); if (i < 0) throw new Error(`no conversion of ${uid} to mutate`); xml[i] = Buffer.from(f(txt(xml[i]))).toString('hex'); };
	const ssmUid = 'KOR-SSM-0001';
	const before = JSON.stringify([released, stats, audit]);
	try {
	switch (mutate) {
	case 'raw-bit': { const i = raw.findIndex((h) => h.startsWith('bf01bf')); const b = Buffer.from(raw[i], 'hex'); b[b.length - 9] ^= 0x04; raw[i] = b.toString('hex'); break; }
	case 'raw-missing': raw.shift(); break;
	case 'raw-extra': raw.push(byName['v1-dup-access'].payload); break;
	case 'xml-lat-ulp': edit('USFK-THAAD-INT-0002', (s) => s.replace(/lat="35.300000000000004"/, 'lat="35.300000000000011"')); break;
	case 'xml-caveat': edit(ssmUid, (s) => s.replace(/ caveat="[^"]*"/, '')); break;
	case 'xml-releasableto': edit(ssmUid, (s) => s.replace(/releasableTo="USA KOR"/, 'releasableTo="USA"')); break;
	case 'xml-callsign': edit(ssmUid, (s) => s.replace('GREEN PINE-7', 'GREEN PINE-1')); break;
	case 'xml-link': edit(ssmUid, (s) => s.replace(/<link uid="KOR-IP-1"[^>]*\/>/, '')); break;
	case 'xml-time': edit(ssmUid, (s) => s.replace(/stale="2026-12-02T01:05:01.250Z"/, 'stale="2026-12-02T01:05:01.251Z"')); break;
	case 'xml-takcontrol': edit('KOR-SSM-0003', (s) => s.replace('</detail>', '<TakControl contactUid="ANDROID-0123456789"/></detail>')); break;
	case 'audit-encoding': { const r = audit?.find((x) => x.uid === ssmUid); if (!r) throw new Error('no audit record'); r.encoding = 'xml'; break; }
	case 'stats-tak-control': if (stats) stats.dropped.tak_control = 0; else throw new Error('no stats to mutate'); break;
	}
	} catch (e) {
		console.log(`# --mutate ${mutate} could not be applied: ${e.message}`);
		process.exit(3);
	}
	// A mutation that changed nothing proves nothing: not a "caught" failure.
	if (JSON.stringify([released, stats, audit]) === before) {
		console.log(`# --mutate ${mutate} changed nothing (its target is not in the outputs)`);
		process.exit(3);
	}
}

// ------------------------------------------------ who got what
const got = { 'usa-raw': new Map(), 'kor-xml': new Map() };   // case name -> [payload bytes]
const strays = { 'usa-raw': [], 'kor-xml': [] };
const casesByPayload = new Map(cases.map((c) => [c.payload, c]));
const v1ByUid = new Map(cases.filter((c) => c.encoding === 'takproto-v1' && c.xml).map((c) => [L.eventAttrs(c.xml).uid, c]));
for (const [peer, list] of Object.entries(released.peers)) {
	for (const h of list) {
		let c = casesByPayload.get(h);
		if (!c && PEERS[peer] === 'xml' && !h.startsWith('bf')) {
			const a = L.eventAttrs(Buffer.from(h, 'hex').toString('utf8'));
			const cand = a && v1ByUid.get(a.uid);
			if (cand) c = cand;
		}
		if (!c) { strays[peer].push(h); continue; }
		if (!got[peer].has(c.name)) got[peer].set(c.name, []);
		got[peer].get(c.name).push(L.unhex(h));
	}
}

console.log(`# node-cot ${nodecot_version}; ${cases.length} cases; peers usa-raw (encoding as-received, USA) and kor-xml (encoding xml, KOR)`);
for (const peer of Object.keys(PEERS)) {
	const problems = [];
	for (const c of cases) {
		const n = got[peer].get(c.name)?.length ?? 0;
		const want = c.release[peer] ? 1 : 0;
		if (n !== want) problems.push(`${c.name}: released ${n} time(s), want ${want}${c.drop ? ` (must be dropped: ${c.drop.reason}${c.drop.parse_err ? '/' + c.drop.parse_err : ''})` : ''}`);
	}
	for (const h of strays[peer]) problems.push(`a payload that is no case's, nor a conversion of one: ${h.length > 240 ? h.slice(0, 240) + '…' : h}`);
	check(`${peer}: exactly the expected releases, each once (${cases.filter((c) => c.release[peer]).length} of ${cases.length} cases)`, problems);
}

// ------------------------------------------------ per case
const dec = new TextDecoder('utf-8', { fatal: true });
const summary = [];
for (const c of cases) {
	const row = { name: c.name, encoding: c.encoding, made_by: c.made_by, results: {} };
	summary.push(row);
	const input = L.unhex(c.payload);
	const orig = c.xml ? new CoT(c.xml) : null;
	const want = orig ? view(orig) : null;
	let tak = null;
	if (c.encoding === 'takproto-v1') tak = L.decodeTak(input.subarray(3));

	// Our claim about node-cot: its bytes carry no 16/17 even when the XML
	// has caveat/releasableTo; we added them.
	if (c.nodecot_bare) {
		const ev = L.decodeTak(L.unhex(c.nodecot_bare)).event;
		const srcA = L.eventAttrs(c.xml);
		if (srcA.caveat || srcA.releasableTo) {
			quirk('no_16_17');
			check(`${c.name}: node-cot's to_proto() dropped caveat/releasableTo of the XML (so our encoder adds 16/17)`,
				ev.caveat === undefined && ev.releaseableTo === undefined ? [] : ['node-cot wrote 16/17 after all: re-check the premise']);
		}
	}

	// The negative cases through node-cot, to show the reader disagreement
	// trackgate refuses.
	if (c.name === 'v1-dup-track') {
		quirk('replaces_submessage');
		const t = CoT.from_proto(input.subarray(3)).raw.event.detail.track?._attributes;
		console.log(`# ${c.name}: node-cot reads track speed ${t?.speed} course ${t?.course} (the second of two; protobuf would merge)`);
	}
	if (c.name === 'v1-access-overlong-key' || c.name === 'v1-key-over-2-32') {
		const a = CoT.from_proto(input.subarray(3)).raw.event._attributes.access;
		const w = c.name === 'v1-key-over-2-32' ? 'UNCLASSIFIED//REL TO USA, KOR' : 'TOP SECRET//REL TO USA, KOR';
		check(`${c.name}: node-cot reads access "${a}" (the premise of the case)`, a === w ? [] : [`want ${w}`]);
	}
	if (c.name === 'v1-dup-access') {
		quirk('last_access');
		console.log(`# ${c.name}: node-cot reads access "${CoT.from_proto(input.subarray(3)).raw.event._attributes.access}" (the last of two)`);
	}

	for (const peer of Object.keys(PEERS)) {
		const outs = got[peer].get(c.name) ?? [];
		if (!c.release[peer]) { row.results[peer] = outs.length ? 'WRONGLY RELEASED' : 'withheld (ok)'; continue; }
		if (!outs.length) { row.results[peer] = 'MISSED'; continue; }
		const out = outs[0];
		const before = fails;
		const tag = `${c.name}: ${peer}`;
		if (c.encoding === 'xml' || PEERS[peer] === 'as-received') {
			check(`${tag}: byte for byte the input (${out.length} bytes)`, L.hex(out) === c.payload ? [] : ['payload differs']);
			if (c.encoding === 'takproto-v1') {
				let cot;
				try { cot = CoT.from_proto(out.subarray(3)); } catch (e) { notOk(`${tag}: node-cot CoT.from_proto() reads it`, [String(e)]); }
				let w = want;
				if (c.typed_contact) {
					// node-cot lets the typed Contact replace xmlDetail's <contact>.
					quirk('typed_contact_wins');
					w = { ...want, contact: { callsign: c.typed_contact.callsign, endpoint: undefined } };
				}
				if (cot) check(`${tag}: node-cot CoT.from_proto() gives the original event's fields`, diff(w, view(cot, true), '', { signedZero: false }));
				const e = L.decodeTak(out.subarray(3)).event;
				const src = L.eventAttrs(c.xml);
				check(`${tag}: caveat/releaseableTo (16/17, our walker) as the input: ${JSON.stringify(e.caveat ?? null)} / ${JSON.stringify(e.releaseableTo ?? null)}`,
					c.legacy || (e.caveat === src.caveat && e.releaseableTo === src.releasableTo) ? [] : [`want ${src.caveat} / ${src.releasableTo}`]);
			} else {
				let cot;
				try { cot = new CoT(dec.decode(startsWithV0(out) ? out.subarray(3) : out)); } catch (e) { notOk(`${tag}: node-cot new CoT() reads it`, [String(e)]); }
				if (cot) check(`${tag}: node-cot new CoT() gives the original event's fields`, diff(want, view(cot)));
			}
		} else {
			// A v1 message converted to XML for this peer.
			let text;
			if (L.startsWith(out, L.MESH_HEADER)) { notOk(`${tag}: got the v1 message as received, not its XML conversion`); row.results[peer] = 'NOT CONVERTED'; continue; }
			try { text = dec.decode(out); } catch { notOk(`${tag}: the conversion is UTF-8`); row.results[peer] = 'MISMATCH'; continue; }
			const e = tak.event;
			let cot;
			try { cot = new CoT(text); } catch (err) { notOk(`${tag}: node-cot new CoT() reads the conversion`, [String(err), text]); }
			if (cot) {
				check(`${tag}: node-cot new CoT(conversion) gives the original event's fields (type uid how access times point contact track remarks __group status takv links sensor)`,
					diff(want, view(cot)));
				// What node-cot keeps of the marking attributes (xml-js keeps
				// every attribute, its schema does not name them).
				const na = cot.raw.event._attributes;
				check(`${tag}: node-cot's raw attributes keep caveat=${JSON.stringify(na.caveat ?? null)} releasableTo=${JSON.stringify(na.releasableTo ?? null)}`,
					diff({ caveat: e.caveat, releasableTo: e.releaseableTo }, { caveat: na.caveat, releasableTo: na.releasableTo }));
			}
			// Our own reading of the <event> start tag: the marking survives.
			const a = L.eventAttrs(text) ?? {};
			check(`${tag}: caveat and releasableTo survive (own attribute parsing): ${JSON.stringify(a.caveat ?? null)} / ${JSON.stringify(a.releasableTo ?? null)}`,
				diff({ access: e.access, caveat: e.caveat, releasableTo: e.releaseableTo, releaseableTo: undefined },
					{ access: a.access, caveat: a.caveat, releasableTo: a.releasableTo, releaseableTo: a.releaseableTo }));
			if (c.legacy) check(`${tag}: legacy varint 16/17 give no caveat/releasableTo and no trace`, a.caveat === undefined && a.releasableTo === undefined
				&& !text.includes(String(T(e.legacy[16]))) ? [] : ['legacy fields leaked into the conversion']);
			// The parts a conversion leaves out (release.md §6).
			const leaks = ['ANDROID-0123456789', 'TakControl', 'takControl', 'not in any schema'].filter((s) => text.includes(s));
			check(`${tag}: no takControl, no unknown field in the conversion`, leaks.map((s) => `"${s}" is in it`));
			// The detail text starts with xmlDetail as sent (docs/release.md §2).
			const m = /<detail>([\s\S]*)<\/detail><\/event>$/.exec(text);
			if (e.detail) check(`${tag}: <detail> holds xmlDetail byte for byte, then the typed elements`,
				m && m[1].startsWith(e.detail.xmlDetail) ? [] : ['<detail> does not start with xmlDetail', text]);
			else check(`${tag}: no Detail on the wire, no <detail> in the conversion`, /<detail\b/.test(text) ? [text] : []);
			// The exact bytes docs/release.md §6 prescribes, as we read it.
			const ref = L.referenceXml(e);
			check(`${tag}: the conversion is byte for byte docs/release.md §6 (our rendering, ${ref.length} bytes)`,
				ref === text ? [] : firstDiff(ref, text));
		}
		row.results[peer] = fails === before ? 'ok' : 'MISMATCH';
	}
}

function startsWithV0(b) { return b[0] === 0xbf && b[1] === 0x00 && b[2] === 0xbf; }
function T(v) { return v === undefined ? 'none' : v; }
function firstDiff(a, b) {
	let i = 0;
	while (i < a.length && a[i] === b[i]) i++;
	return [`first difference at character ${i}:`, `  want …${a.slice(Math.max(0, i - 60), i + 60)}…`, `  got  …${b.slice(Math.max(0, i - 60), i + 60)}…`];
}

// ------------------------------------------------ counters and audit log
if (stats) {
	const want = { dropped: {}, parse_err: {} };
	for (const c of cases.filter((x) => x.drop)) {
		want.dropped[c.drop.reason] = (want.dropped[c.drop.reason] ?? 0) + 1;
		if (c.drop.parse_err) want.parse_err[c.drop.parse_err] = (want.parse_err[c.drop.parse_err] ?? 0) + 1;
	}
	const problems = [];
	for (const [r, n] of Object.entries(want.dropped)) {
		if (stats.dropped?.[r] !== n) problems.push(`dropped.${r}: ${JSON.stringify(stats.dropped?.[r])}, want ${n}`);
	}
	for (const [r, n] of Object.entries(want.parse_err)) {
		if (stats.parse_err?.[r] !== n) problems.push(`parse_err.${r}: ${JSON.stringify(stats.parse_err?.[r])}, want ${n}`);
	}
	for (const p of stats.peers ?? []) {
		const n = cases.filter((c) => c.release[p.name]).length;
		if (p.name in PEERS && p.released !== n) problems.push(`peer ${p.name} released ${p.released}, want ${n}`);
	}
	if (!(stats.peers ?? []).length) problems.push('no peers in the stats');
	if (stats.messages !== cases.length) problems.push(`messages ${stats.messages}, want ${cases.length}`);
	// Messages and their drops by encoding; conversions (one per message
	// converted for the xml peers, release.md §6).
	for (const enc of ['xml', 'takproto-v1']) {
		const mine = cases.filter((c) => c.encoding === enc);
		const e = stats.encodings?.[enc];
		if (!e) { problems.push(`no encodings.${enc} in the stats`); continue; }
		if (e.messages !== mine.length) problems.push(`encodings.${enc}.messages ${e.messages}, want ${mine.length}`);
		const wantDrops = {};
		for (const c of mine.filter((x) => x.drop)) wantDrops[c.drop.reason] = (wantDrops[c.drop.reason] ?? 0) + 1;
		for (const [r, n] of Object.entries(e.dropped ?? {})) {
			if ((wantDrops[r] ?? 0) !== n) problems.push(`encodings.${enc}.dropped.${r} ${n}, want ${wantDrops[r] ?? 0}`);
		}
		for (const r of Object.keys(wantDrops)) if (!(r in (e.dropped ?? {}))) problems.push(`encodings.${enc}.dropped has no ${r}`);
	}
	const conv = cases.filter((c) => c.encoding === 'takproto-v1' && c.release['kor-xml']).length;
	if (stats.converted !== conv) problems.push(`converted ${stats.converted}, want ${conv}`);
	check(`tgctl stats: messages and drops by encoding, conversions; ${Object.entries(want.dropped).map(([r, n]) => `${r} ${n}`).join(', ')}; parse_err ${Object.entries(want.parse_err).map(([r, n]) => `${r} ${n}`).join(', ')}; releases per peer; ${cases.length} messages`, problems);
}
if (audit) {
	const problems = [];
	for (const c of cases.filter((x) => x.drop)) {
		const uid = c.xml ? L.eventAttrs(c.xml).uid : (c.uid ?? '');
		// By uid; a message dropped before its uid was read (encoding,
		// tak_control, or a parse error the decoder met first) by its reason
		// and link, with no uid.
		let recs = uid ? audit.filter((r) => r.uid === uid) : [];
		if (!recs.length) recs = audit.filter((r) => r.uid === '' && r.link === c.link && r.reason === c.drop.reason
			&& (!c.drop.parse_err || r.parse_err === c.drop.parse_err));
		if (recs.length !== 1) { problems.push(`${c.name}: ${recs.length} audit records for uid "${uid}"`); continue; }
		const r = recs[0];
		if (r.encoding !== c.encoding) problems.push(`${c.name}: audit encoding ${r.encoding}, want ${c.encoding}`);
		if (r.reason !== c.drop.reason) problems.push(`${c.name}: reason ${r.reason}, want ${c.drop.reason}`);
		if (c.drop.parse_err && r.parse_err !== c.drop.parse_err) problems.push(`${c.name}: parse_err ${r.parse_err}, want ${c.drop.parse_err}`);
		if (r.released_to?.length) problems.push(`${c.name}: audit says released to ${r.released_to}`);
	}
	for (const c of cases.filter((x) => !x.drop && x.xml)) {
		const uid = L.eventAttrs(c.xml).uid;
		const r = audit.find((x) => x.uid === uid);
		const wantTo = Object.keys(PEERS).filter((p) => c.release[p]).sort();
		if (!r) { problems.push(`${c.name}: no audit record`); continue; }
		if (r.encoding !== c.encoding) problems.push(`${c.name}: audit encoding ${r.encoding}, want ${c.encoding}`);
		if (JSON.stringify([...(r.released_to ?? [])].sort()) !== JSON.stringify(wantTo)) problems.push(`${c.name}: audit released_to ${JSON.stringify(r.released_to)}, want ${JSON.stringify(wantTo)}`);
		for (const [p, why] of Object.entries(c.withheld ?? {})) {
			if (r.withheld?.[p] !== why) problems.push(`${c.name}: audit withheld ${p} ${JSON.stringify(r.withheld?.[p])}, want ${why}`);
		}
		// The marking as sent, v1 fields 16/17 included.
		if (c.encoding === 'takproto-v1') {
			const e = L.decodeTak(L.unhex(c.payload).subarray(3)).event;
			const w = { access: e.access ?? null, caveat: e.caveat ?? null, releasable_to: e.releaseableTo ?? null };
			for (const k of Object.keys(w)) if ((r[k] ?? null) !== w[k]) problems.push(`${c.name}: audit ${k} ${JSON.stringify(r[k])}, want ${JSON.stringify(w[k])}`);
		}
	}
	if (audit.length !== cases.length) problems.push(`${audit.length} audit records for ${cases.length} messages`);
	check(`audit log: one record per message, its encoding; each drop's reason (and parse_err), each release's peers and marking (16/17 as caveat/releasable_to)`, problems);
}

// ------------------------------------------------ summary
console.log('#');
console.log('# node-cot quirks normalised (times applied):');
for (const [k, d] of Object.entries(QUIRKS)) console.log(`#   [${String(quirkCount[k]).padStart(3)}] ${d}`);
console.log('#');
console.log('# case                           enc          made by                              usa-raw (as-received)  kor-xml (xml)');
for (const r of summary) {
	console.log(`# ${r.name.padEnd(30)} ${r.encoding.padEnd(12)} ${r.made_by.padEnd(36)} ${String(r.results['usa-raw']).padEnd(22)} ${r.results['kor-xml']}`);
}
console.log('#');
console.log(`# conformance vs node-cot ${nodecot_version}: ${passes} passed, ${fails} failed`);
for (const f of failed) console.log(`#   FAILED: ${f}`);
process.exit(fails ? 1 : 0);
