// SPDX-License-Identifier: BSD-3-Clause
// gen.mjs OUT.json - the conformance cases: realistic missile-warning events
// written as CoT XML and encoded as TAK Protocol Version 1 by node-cot
// (`new CoT(xml).to_proto()`, a bare TakMessage, behind the mesh header
// 0xbf 0x01 0xbf that we add), plus variations node-cot cannot make, made by
// our own small encoder (lib.mjs) and said so in each case's `made_by`:
//
//   - CotEvent fields 16 (caveat) and 17 (releaseableTo): node-cot's .proto
//     has no such fields, its to_proto() drops the XML attributes silently;
//   - legacy varint fields 16/17 (submissionTime/creationTime before TAK
//     Server 4.10), a takControl next to the event, an unknown field;
//   - a <contact> in xmlDetail next to a typed Contact, no or an empty
//     Detail, edge numbers and strings in typed fields;
//   - the negative cases: a duplicated access, a TakControl-only message,
//     a duplicated typed track, field 16 with the wrong wire type.
// Two XML cases come from node-cot's to_xml(): one as it writes a plain
// event, one with a callsign it does not escape (not well-formed).
//
// Every case says which peers must get it (policy tests/policies/
// takproto-nodecot.yaml: `usa-raw` encoding as-received, nation USA; `kor-xml`
// encoding xml, nation KOR) and, for drops, the reason.
import fs from 'node:fs';
import CoT from '@tak-ps/node-cot';
import * as L from './lib.mjs';

const NODECOT_VERSION = JSON.parse(fs.readFileSync(
	new URL('./node_modules/@tak-ps/node-cot/package.json', import.meta.url))).version;

const T0 = Date.parse('2026-12-02T01:00:00.250Z');
const iso = (ms) => new Date(ms).toISOString();

function esc(s) {
	return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
		.replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}
const attrs = (o) => Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}="${esc(String(v))}"`).join('');

// One event as a TAK sender writes it.  `ev` has the <event> attributes,
// `point`, and the detail children in order as [name, attrs, text].
function eventXml(ev) {
	let s = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';
	s += `<event version="2.0"${attrs(ev.attrs)}>`;
	s += `<point${attrs(ev.point)}/>`;
	if (ev.detail) {
		s += '<detail>';
		for (const [name, a, text] of ev.detail)
			if (name === 'cdata-remarks') s += '<remarks><![CDATA[impact <predicted> & "confirmed" ]]></remarks>';
			else s += text === undefined ? `<${name}${attrs(a)}/>` : `<${name}${attrs(a)}>${esc(text)}</${name}>`;
		s += '</detail>';
	}
	return s + '</event>';
}

// node-cot's encoding of an XML event: a bare TakMessage.  node-cot's
// constructor stamps <_flow-tags_ NodeCoT-12.23.0="now">: pinned to the
// event time so that the bytes are the same on every run.
function nodecotProto(xml, when) {
	const cot = new CoT(xml);
	cot.raw.event.detail['_flow-tags_'] = { [`NodeCoT-${NODECOT_VERSION}`]: iso(when) };
	return cot.to_proto();
}

const withHeader = (bare) => L.concat(L.MESH_HEADER, bare);
const appendToEvent = (bare, ...fields) => L.editCotEvent(bare, (ev) => L.concat(ev, ...fields));

// ---------------------------------------------------------------- events

function ssm(n, over = {}) {
	const t = T0 + n * 1000;
	return {
		attrs: {
			uid: `KOR-SSM-${String(n).padStart(4, '0')}`, type: 'a-h-A-W-M-S-S', how: 'm-r',
			time: iso(t), start: iso(t), stale: iso(t + 300000).replace('.000Z', 'Z'),
			access: 'SECRET//REL TO USA, KOR', ...over.attrs,
		},
		point: { lat: '37.5012345678901', lon: '127.0314', hae: '10500.5', ce: '25', le: '40', ...over.point },
		detail: over.detail ?? [
			['contact', { callsign: 'GREEN PINE-7 & <KR> 미사일 경보', endpoint: '198.51.100.7:4242:udp' }],
			['track', { course: '350.25', speed: '1520.5' }],
			['remarks', {}, 'SSM launch detected & tracked; predicted impact <38.1N 127.9E> in 212 s'],
			['link', { uid: `KOR-LP-${n}`, relation: 'p-p', type: 'b-d-l' }],
			['link', { uid: `KOR-IP-${n}`, relation: 'p-c', type: 'b-d-i' }],
			['__group', { name: 'Cyan', role: 'Team Member' }],
			['status', { battery: '87' }],
			['takv', { device: 'AN/TPY-2 "Sentinel"', platform: 'WinTAK-CIV', os: 'Microsoft Windows 10', version: '5.1.0.46' }],
			['sensor', { azimuth: '15', fov: '120', range: '1000000', model: 'AN/TPY-2' }],
		],
	};
}

const cases = [];
function add(c) { cases.push(c); }

function v1Case(name, what, ev, { extra = [], release = { 'usa-raw': true, 'kor-xml': true }, drop, edit, made_by, takControl } = {}) {
	const xml = eventXml(ev);
	let bare = nodecotProto(xml, Date.parse(ev.attrs.time));
	const nodecotBare = bare;
	if (extra.length) bare = appendToEvent(bare, ...extra);
	if (edit) bare = edit(bare);
	if (takControl) bare = L.concat(takControl, bare);
	add({
		name, what, encoding: 'takproto-v1', xml, release, drop: drop ?? null,
		made_by: made_by ?? (extra.length || edit || takControl ? 'node-cot to_proto() + our encoder' : 'node-cot to_proto()'),
		nodecot_bare: L.hex(nodecotBare), payload: L.hex(withHeader(bare)),
	});
}

const takControl = (min, max, uid) => L.fBytes(1, L.concat(L.fVarint(1, min), L.fVarint(2, max), L.fString(3, uid)));

// 1. A hostile SSM track with everything, its marking in all three sources:
//    caveat and releaseableTo as CotEvent fields 16/17 (our encoder).
{
	const ev = ssm(1, { attrs: { caveat: 'REL TO USA, KOR', releasableTo: 'USA KOR' } });
	v1Case('v1-ssm-full', 'hostile SSM track, every detail element, access + caveat (16) + releaseableTo (17)', ev, {
		extra: [L.fString(16, 'REL TO USA, KOR'), L.fString(17, 'USA KOR')] });
}
// 2. A friendly interceptor track: numbers that need %.17g, negative hae,
//    TAK's 9999999 "unknown" ce/le, a contact with an endpoint only, access
//    only (node-cot's bytes as they are).
{
	const lat = 35.300000000000004;   // %.15g gives 35.3, another double: %.17g
	const ev = {
		attrs: { uid: 'USFK-THAAD-INT-0002', type: 'a-f-A-W-M-S-A', how: 'm-r', time: iso(T0 + 2000), start: iso(T0 + 2000),
			stale: iso(T0 + 62000), access: 'SECRET//REL TO USA, KOR', qos: '1-r-c', opex: 'o' },
		point: { lat: String(lat), lon: '127.12345678901234', hae: '-12.75', ce: '9999999', le: '9999999' },
		detail: [
			['contact', { endpoint: '*:-1:stcp' }],
			['track', { course: '0.1', speed: '3000.0000000000005' }],
			['remarks', {}, 'THAAD interceptor\tafter launch\nKR-US'],
			['link', { uid: 'KOR-SSM-0001', relation: 'p-p' }],
		],
	};
	v1Case('v1-interceptor-numbers', 'friendly interceptor: %.17g numbers, negative hae, qos/opex, link without type', ev);
}
// 3. takControl next to the event, TAK Server's submissionTime and
//    creationTime (TakMessage 3/4) and an unknown CotEvent field 99: kept for
//    the as-received peer, left out of the XML.
{
	const ev = ssm(3, { attrs: { type: 'a-h-A-W-M-S-B' } });
	v1Case('v1-takcontrol-and-event', 'takControl + cotEvent, TakMessage 3/4, unknown CotEvent field 99', ev, {
		takControl: takControl(1, 1, 'ANDROID-0123456789'),
		edit: (bare) => L.concat(appendToEvent(bare, L.fString(99, 'not in any schema')),
			L.fVarint(3, BigInt(T0 + 3100)), L.fVarint(4, BigInt(T0 + 3050))),
	});
}
// 4. Fields 16/17 as varints: the legacy submissionTime/creationTime, no marking.
{
	const ev = ssm(4);
	v1Case('v1-legacy-16-17-varint', 'CotEvent 16/17 as varints (legacy timestamps): ignored, no caveat/releasableTo', ev, {
		extra: [L.fVarint(16, BigInt(T0 + 4100)), L.fVarint(17, BigInt(T0 + 4050))] });
	cases[cases.length - 1].legacy = true;
}
// 5. releaseableTo (17) alone narrows the release to KOR: only the xml peer.
{
	const ev = ssm(5, { attrs: { releasableTo: 'KOR' } });
	v1Case('v1-releasableto-kor', 'releaseableTo (17) "KOR" narrows REL TO USA, KOR: only kor-xml', ev, {
		extra: [L.fString(17, 'KOR')], release: { 'usa-raw': false, 'kor-xml': true } });
}
// 6. caveat (16) alone narrows the release to USA: only the as-received peer.
{
	const ev = ssm(6, { attrs: { caveat: 'REL TO USA' } });
	v1Case('v1-caveat-usa', 'caveat (16) "REL TO USA" narrows REL TO USA, KOR: only usa-raw', ev, {
		extra: [L.fString(16, 'REL TO USA')], release: { 'usa-raw': true, 'kor-xml': false } });
}
// 7. Classified only by its callsign (a late scope), which only the typed
//    Contact carries: the detail text D must give the callsign.
{
	const ev = {
		attrs: { uid: 'KOR-RADAR-0007', type: 'a-f-G-E-S-R', how: 'h-e', time: iso(T0 + 7000), start: iso(T0 + 7000),
			stale: iso(T0 + 67000), access: 'SECRET//REL TO USA, KOR' },
		point: { lat: '36.1', lon: '128.3', hae: '0', ce: '5', le: '5' },
		detail: [['contact', { callsign: 'SENTINEL-3' }], ['status', { battery: '100' }]],
	};
	v1Case('v1-callsign-class', 'a ground radar classified by its callsign (typed Contact) alone', ev);
}
// 7b. A <contact> in xmlDetail and a typed Contact that says otherwise: the
//    xmlDetail copy wins (TAK's rule, release.md §2), so the callsign rule
//    sees SENTINEL-9 and the conversion has that <contact> only.  node-cot's
//    from_proto() lets the typed one win (check.mjs lists it as a quirk).
{
	const ev = {
		attrs: { uid: 'KOR-RADAR-0017', type: 'a-f-G-E-S-R', how: 'h-e', time: iso(T0 + 17000), start: iso(T0 + 17000),
			stale: iso(T0 + 77000), access: 'SECRET//REL TO USA, KOR' },
		point: { lat: '36.2', lon: '128.4', hae: '0', ce: '5', le: '5' },
		detail: [['remarks', {}, 'radar site 9'], ['contact', { callsign: 'SENTINEL-9', endpoint: '198.51.100.9:4242:udp' }]],
	};
	v1Case('v1-contact-xmldetail-wins', '<contact> in xmlDetail (SENTINEL-9) and a typed Contact DECOY-9: xmlDetail wins', ev, {
		edit: (bare) => L.editCotEvent(bare, (ce) => L.editDetail(ce, (d) => L.concat(...L.walk(d).map((f) => {
			if (f.field === 1) return L.fString(1, '<contact callsign="SENTINEL-9" endpoint="198.51.100.9:4242:udp"/>' + new TextDecoder().decode(f.bytes));
			if (f.field === 2) return L.fBytes(2, L.fString(2, 'DECOY-9'));
			return d.subarray(f.start, f.end);
		})))) });
	cases[cases.length - 1].typed_contact = { callsign: 'DECOY-9' };
}
// 7c. Edges of the conversion: numbers at the ends of %.15g/%.17g (-0, the
//    smallest subnormal, an exponent), control characters and a 4-byte
//    UTF-8 character in typed strings, CDATA remarks, a stale time at the
//    end of year 9999.
{
	const ev = {
		attrs: { uid: 'KOR-SSM-EDGE-🚀-0018', type: 'a-h-A-W-M-S-S', how: 'm-r', time: iso(T0 + 18000), start: iso(T0 + 18000),
			stale: '9999-12-31T23:59:59.999Z', access: 'SECRET//REL TO USA, KOR' },
		point: { lat: '-89.99999999999999', lon: '-179.99999999999997', hae: '-0', ce: '1e-7', le: '123456789012345680' },
		detail: [
			['contact', { callsign: 'EAGLE\t1 🚀', endpoint: '[2001:db8:82::7]:4242:udp' }],
			['track', { course: '360', speed: '5e-324' }],
			['cdata-remarks'],
			['takv', { device: 'a\rb\nc', platform: '<&>', os: '"quoted"', version: "it's" }],
		],
	};
	v1Case('v1-edges', 'numbers at the edges of %.15g/%.17g, tab/CR/LF and 4-byte UTF-8 in typed strings, CDATA remarks, stale in 9999', ev);
}
// 7d. No Detail on the wire (node-cot always writes one: taken out by our
//    encoder), and an empty one: the conversion has no <detail>, and an
//    empty <detail></detail>.  Escapes in the uid.
for (const [n, name, what, keep] of [[19, 'v1-no-detail', 'CotEvent without detail (15)', false],
	[20, 'v1-empty-detail', 'CotEvent with an empty detail (15, length 0)', true]]) {
	const ev = {
		attrs: { uid: `KOR&"SSM"<${n}>`, type: 'a-h-A-W-M-S-S', how: 'm-r', time: iso(T0 + n * 1000), start: iso(T0 + n * 1000),
			stale: iso(T0 + n * 1000 + 60000), access: 'SECRET//REL TO USA, KOR' },
		point: { lat: '38.0', lon: '127.5', hae: '30000', ce: '100', le: '100' },
		detail: null,
	};
	v1Case(name, what, ev, {
		edit: (bare) => L.editCotEvent(bare, (ce) => L.concat(...L.walk(ce).map((f) =>
			(f.field === 15 ? (keep ? L.fBytes(15, new Uint8Array(0)) : new Uint8Array(0)) : ce.subarray(f.start, f.end))))) });
}
// 8. An XML event (TAK v0, no header) and the same behind 0xbf 0x00 0xbf: sent
//    as is to both peers, the xml peer too.
{
	const xml = eventXml(ssm(8, { attrs: { caveat: 'REL TO USA, KOR', releasableTo: 'USA,KOR' } }));
	add({ name: 'xml-plain', what: 'CoT XML: byte for byte to both peers', encoding: 'xml', xml,
		release: { 'usa-raw': true, 'kor-xml': true }, drop: null, made_by: 'our XML',
		payload: L.hex(new TextEncoder().encode(xml)) });
	const xml9 = eventXml(ssm(9));
	add({ name: 'xml-tak-v0', what: 'CoT XML behind the TAK v0 header: byte for byte to both peers', encoding: 'xml',
		xml: xml9, release: { 'usa-raw': true, 'kor-xml': true }, drop: null, made_by: 'our XML',
		payload: L.hex(L.concat(L.V0_HEADER, new TextEncoder().encode(xml9))) });
}
// 8b. XML as node-cot writes it (to_xml(): attributes in its own order,
//    <point> after <detail>): sent as is to both.
function nodecotXml(xml, when) {
	const cot = new CoT(xml);
	cot.raw.event.detail['_flow-tags_'] = { [`NodeCoT-${NODECOT_VERSION}`]: iso(when) };
	return cot.to_xml();
}
{
	const ev = ssm(21, { detail: [['contact', { callsign: 'GREEN PINE-21', endpoint: '198.51.100.7:4242:udp' }],
		['track', { course: '10', speed: '900' }], ['remarks', {}, 'node-cot to_xml'], ['status', { battery: '50' }]] });
	const xml = nodecotXml(eventXml(ev), T0 + 21000);
	add({ name: 'xml-nodecot-to_xml', what: 'CoT XML written by node-cot to_xml(): byte for byte to both peers', encoding: 'xml',
		xml, release: { 'usa-raw': true, 'kor-xml': true }, drop: null, made_by: 'node-cot to_xml()',
		payload: L.hex(new TextEncoder().encode(xml)) });
}

// ---------------------------------------------------------------- drops
// node-cot's to_xml() does not escape attribute values: a callsign with "&"
// and "<" gives XML that is not well-formed, and trackgate refuses it.
{
	const ev = ssm(22, { detail: [['contact', { callsign: 'A&B <22>' }], ['remarks', {}, 'unescaped']] });
	const xml = nodecotXml(eventXml(ev), T0 + 22000);
	add({ name: 'xml-nodecot-unescaped', what: 'node-cot to_xml() of callsign "A&B <22>": not well-formed, parse', encoding: 'xml',
		xml: null, uid: 'KOR-SSM-0022', release: { 'usa-raw': false, 'kor-xml': false }, drop: { reason: 'parse', parse_err: 'malformed' },
		made_by: 'node-cot to_xml()', payload: L.hex(new TextEncoder().encode(xml)) });
}
const none = { 'usa-raw': false, 'kor-xml': false };
// Blocked by a remarks rule: remarks come from xmlDetail.
{
	const ev = ssm(10, { detail: [['remarks', {}, 'relay per BLUE  LANTERN tasking'], ['contact', { callsign: 'X-10' }]] });
	v1Case('v1-blocked-remarks', 'remarks (from xmlDetail) hit a block rule', ev, { release: none, drop: { reason: 'blocked' } });
}
// Blocked by a marking rule: NOFORN only in caveat (16).
{
	const ev = ssm(11, { attrs: { caveat: 'NOFORN' } });
	v1Case('v1-caveat-noforn', 'caveat (16) NOFORN hits the marking block rule', ev, {
		extra: [L.fString(16, 'NOFORN')], release: none, drop: { reason: 'blocked' } });
}
// A marking field behind an overlong key (protobuf readers read a varint by
// value, release.md §2): node-cot reads it, so must trackgate.  An access of
// TOP SECRET goes to no peer (clearance SECRET); a releaseableTo of USA only
// to usa-raw.  Had trackgate skipped these fields, it would have applied the
// link's default marking and released both to both.
const overlongKey = (field) => { const k = L.varint((BigInt(field) << 3n) | 2n); const o = Uint8Array.from([...k, 0]); o[k.length - 1] |= 0x80; return o; };
const overlong = (field, str) => { const b = new TextEncoder().encode(str); return L.concat(overlongKey(field), L.varint(b.length), b); };
const dropField = (n) => (bare) => L.editCotEvent(bare, (ce) => L.concat(...L.walk(ce).filter((f) => f.field !== n).map((f) => ce.subarray(f.start, f.end))));
{
	const ev = ssm(23, { attrs: { access: 'TOP SECRET//REL TO USA, KOR' } });
	v1Case('v1-access-overlong-key', 'access TOP SECRET//REL TO USA, KOR behind an overlong key (0x92 0x80 0x00): clearance, no peer', ev, {
		edit: (bare) => appendToEvent(dropField(2)(bare), overlong(2, 'TOP SECRET//REL TO USA, KOR')), release: none0() });
	const ev2 = ssm(24, { attrs: { releasableTo: 'USA' } });
	v1Case('v1-releasableto-overlong-key', 'releaseableTo (17) USA behind an overlong key: only usa-raw', ev2, {
		extra: [overlong(17, 'USA')], release: { 'usa-raw': true, 'kor-xml': false } });
	// A 10-byte key over 2^32 whose low 32 bits say access: protobufjs reads
	// tags as uint32 (the low 32 bits of a 10-byte varint) and takes it for
	// access; protoc refuses it, and so must trackgate.  (A 6- to 9-byte key
	// desynchronises protobufjs: it skips 5 bytes after the 5th, always.)
	const ev3 = ssm(25);
	const big = L.concat(L.varint((1n << 63n) | (2n << 3n) | 2n), L.fString(0, 'UNCLASSIFIED//REL TO USA, KOR').subarray(1));
	v1Case('v1-key-over-2-32', 'a 10-byte key 2^63 + access: node-cot reads access, trackgate refuses (protobuf)', ev3, {
		edit: (bare) => appendToEvent(dropField(2)(bare), big),
		release: none0(), drop: { reason: 'parse', parse_err: 'protobuf' } });
	cases[cases.length - 1].protoc_refuses = true;
}
function none0() { return { 'usa-raw': false, 'kor-xml': false }; }
// access twice, same value: dup_marking.  protobufjs (node-cot) reads the last.
{
	const ev = ssm(12);
	v1Case('v1-dup-access', 'access (2) twice, the same value: parse dup_marking', ev, {
		extra: [L.fString(2, 'SECRET//REL TO USA, KOR')], release: none, drop: { reason: 'parse', parse_err: 'dup_marking' } });
}
// takControl only: tak_control.
add({ name: 'v1-takcontrol-only', what: 'a TakMessage with only takControl: tak_control', encoding: 'takproto-v1',
	xml: null, release: none, drop: { reason: 'tak_control' }, made_by: 'our encoder',
	payload: L.hex(withHeader(takControl(1, 1, 'ANDROID-0123456789'))) });
// The typed track twice in Detail: dup_elem (protobufjs replaces, protobuf merges).
{
	const ev = ssm(14);
	v1Case('v1-dup-track', 'Detail.track (7) twice: parse dup_elem', ev, {
		edit: (bare) => L.editCotEvent(bare, (ce) => L.editDetail(ce, (d) => L.concat(d,
			L.fBytes(7, L.concat(L.fDouble(1, 10), L.fDouble(2, 90)))))),
		release: none, drop: { reason: 'parse', parse_err: 'dup_elem' } });
}
// caveat (16) as a fixed64: wire_type.
{
	const ev = ssm(15);
	v1Case('v1-caveat-fixed64', 'CotEvent 16 with wire type 1 (64-bit): parse wire_type', ev, {
		extra: [L.fFixed64(16, 42n)], release: none, drop: { reason: 'parse', parse_err: 'wire_type' } });
}
// A v1 message on the link that accepts only xml: encoding.
{
	const ev = ssm(16);
	v1Case('v1-on-xml-only-link', 'a good v1 message on a link with encodings [xml]: encoding', ev, {
		release: none, drop: { reason: 'encoding' } });
	cases[cases.length - 1].link = 'xml-only';
}

// Why a peer that does not get an event is passed over (audit `withheld`).
const W = { 'v1-releasableto-kor': { 'usa-raw': 'not_releasable' }, 'v1-caveat-usa': { 'kor-xml': 'not_releasable' },
	'v1-access-overlong-key': { 'usa-raw': 'clearance', 'kor-xml': 'clearance' },
	'v1-releasableto-overlong-key': { 'kor-xml': 'not_releasable' } };
for (const c of cases) { c.link ??= 'kor-us'; if (W[c.name]) c.withheld = W[c.name]; }
fs.writeFileSync(process.argv[2], JSON.stringify({ nodecot_version: NODECOT_VERSION, cases }, null, 1) + '\n');
console.log(`gen: ${cases.length} cases (node-cot ${NODECOT_VERSION}) written to ${process.argv[2]}`);
