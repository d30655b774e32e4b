// SPDX-License-Identifier: BSD-3-Clause
// lib.mjs - what gen.mjs and check.mjs share: a small protobuf wire encoder
// and walker of our own (node-cot's .proto has no CotEvent fields 16/17, so
// caveat and releaseableTo are added and read here, not by node-cot), the
// TAK Protocol v1 mesh header, a reference rendering of docs/release.md §6
// (the XML a peer with `encoding: xml` gets) and the field comparison with
// node-cot's quirks normalised.
//
// Nothing here comes from trackgate: it is written from docs/release.md and
// the protobuf encoding spec only.

export const MESH_HEADER = Uint8Array.from([0xbf, 0x01, 0xbf]);
export const V0_HEADER = Uint8Array.from([0xbf, 0x00, 0xbf]);

// ---------------------------------------------------------------- encoding

export function varint(n) {
	let v = BigInt(n);
	if (v < 0n) throw new Error('negative varint');
	const out = [];
	do {
		let b = Number(v & 0x7fn);
		v >>= 7n;
		if (v > 0n) b |= 0x80;
		out.push(b);
	} while (v > 0n);
	return Uint8Array.from(out);
}

export function concat(...parts) {
	const n = parts.reduce((a, p) => a + p.length, 0);
	const out = new Uint8Array(n);
	let o = 0;
	for (const p of parts) { out.set(p, o); o += p.length; }
	return out;
}

export const key = (field, wt) => varint((BigInt(field) << 3n) | BigInt(wt));
export const fVarint = (field, n) => concat(key(field, 0), varint(n));
export const fBytes = (field, bytes) => concat(key(field, 2), varint(bytes.length), bytes);
export const fString = (field, s) => fBytes(field, new TextEncoder().encode(s));
export function fDouble(field, x) {
	const b = new Uint8Array(8);
	new DataView(b.buffer).setFloat64(0, x, true);
	return concat(key(field, 1), b);
}
export function fFixed64(field, n) {
	const b = new Uint8Array(8);
	new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
	return concat(key(field, 1), b);
}

// ---------------------------------------------------------------- walking

// The fields of one message, in wire order: {field, wt, value (BigInt, for
// wire types 0/1/5), bytes (wt 2), start, end (of the whole field)}.
// Throws on anything malformed.
export function walk(buf) {
	const out = [];
	let i = 0;
	const rdVarint = () => {
		let v = 0n, s = 0n;
		for (let k = 0; k < 10; k++) {
			if (i >= buf.length) throw new Error('truncated varint');
			const b = buf[i++];
			v |= BigInt(b & 0x7f) << s;
			if (!(b & 0x80)) return v;
			s += 7n;
		}
		throw new Error('varint over 10 bytes');
	};
	while (i < buf.length) {
		const start = i;
		const k = rdVarint();
		const field = Number(k >> 3n), wt = Number(k & 7n);
		const f = { field, wt, start };
		if (wt === 0) f.value = rdVarint();
		else if (wt === 1 || wt === 5) {
			const n = wt === 1 ? 8 : 4;
			if (i + n > buf.length) throw new Error('truncated fixed field');
			f.bytes = buf.subarray(i, i + n);
			f.value = n === 8 ? new DataView(buf.buffer, buf.byteOffset + i, 8).getBigUint64(0, true)
				: BigInt(new DataView(buf.buffer, buf.byteOffset + i, 4).getUint32(0, true));
			i += n;
		} else if (wt === 2) {
			const len = Number(rdVarint());
			if (i + len > buf.length) throw new Error('length past the end');
			f.bytes = buf.subarray(i, i + len);
			i += len;
		} else throw new Error(`wire type ${wt}`);
		f.end = i;
		out.push(f);
	}
	return out;
}

// Rebuild a bare TakMessage with its cotEvent (field 2) replaced by
// edit(cotEventBytes): the cotEvent's length is encoded anew.  Every other
// field of the TakMessage is kept as it was, in its place.
export function editCotEvent(takMessage, edit) {
	const parts = [];
	let seen = 0;
	for (const f of walk(takMessage)) {
		if (f.field === 2 && f.wt === 2) {
			seen++;
			parts.push(fBytes(2, edit(f.bytes)));
		} else parts.push(takMessage.subarray(f.start, f.end));
	}
	if (seen !== 1) throw new Error(`${seen} cotEvent fields`);
	return concat(...parts);
}

// The same one level down: the cotEvent's detail (field 15).
export function editDetail(cotEvent, edit) {
	const parts = [];
	for (const f of walk(cotEvent)) {
		if (f.field === 15 && f.wt === 2) parts.push(fBytes(15, edit(f.bytes)));
		else parts.push(cotEvent.subarray(f.start, f.end));
	}
	return concat(...parts);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const dbl = (f) => new DataView(f.bytes.buffer, f.bytes.byteOffset, 8).getFloat64(0, true);

// Our own decoding of a bare TakMessage, protobuf semantics (the last of a
// repeated scalar counts; proto3: an empty string is absent).  Returns
// {takControl, event} where event has the fields of docs/release.md §2.
export function decodeTak(buf) {
	const r = { takControl: null, event: null, submissionTime: null, creationTime: null };
	for (const f of walk(buf)) {
		if (f.field === 1 && f.wt === 2) r.takControl = decodeFlat(f.bytes, { 1: 'u', 2: 'u', 3: 's' },
			['minProtoVersion', 'maxProtoVersion', 'contactUid']);
		else if (f.field === 2 && f.wt === 2) r.event = decodeEvent(f.bytes);
		else if (f.field === 3 && f.wt === 0) r.submissionTime = f.value;
		else if (f.field === 4 && f.wt === 0) r.creationTime = f.value;
	}
	return r;
}

function decodeFlat(buf, kinds, names) {
	const o = {};
	for (const f of walk(buf)) {
		const kind = kinds[f.field];
		if (!kind) continue;
		const name = names[f.field - 1];
		if (kind === 's' && f.wt === 2) { const s = utf8.decode(f.bytes); if (s === '') delete o[name]; else o[name] = s; }
		else if (kind === 'u' && f.wt === 0) o[name] = Number(f.value);
		else if (kind === 'd' && f.wt === 1) o[name] = dbl(f);
		else throw new Error(`field ${f.field}: wire type ${f.wt}`);
	}
	return o;
}

const EVENT_STRINGS = { 1: 'type', 2: 'access', 3: 'qos', 4: 'opex', 5: 'uid', 9: 'how', 16: 'caveat', 17: 'releaseableTo' };
const EVENT_TIMES = { 6: 'sendTime', 7: 'startTime', 8: 'staleTime' };
const EVENT_DOUBLES = { 10: 'lat', 11: 'lon', 12: 'hae', 13: 'ce', 14: 'le' };

export function decodeEvent(buf) {
	const e = { sendTime: 0, startTime: 0, staleTime: 0, lat: 0, lon: 0, hae: 0, ce: 0, le: 0, detail: null, legacy: {} };
	for (const f of walk(buf)) {
		if (EVENT_STRINGS[f.field] && f.wt === 2) {
			const s = utf8.decode(f.bytes);
			if (s === '') delete e[EVENT_STRINGS[f.field]]; else e[EVENT_STRINGS[f.field]] = s;
		} else if ((f.field === 16 || f.field === 17) && f.wt === 0) {
			e.legacy[f.field] = f.value;   // legacy submissionTime/creationTime
		} else if (EVENT_TIMES[f.field] && f.wt === 0) e[EVENT_TIMES[f.field]] = Number(f.value);
		else if (EVENT_DOUBLES[f.field] && f.wt === 1) e[EVENT_DOUBLES[f.field]] = dbl(f);
		else if (f.field === 15 && f.wt === 2) e.detail = decodeDetail(f.bytes);
	}
	return e;
}

const DETAIL_SUBS = {
	2: ['contact', { 1: 's', 2: 's' }, ['endpoint', 'callsign']],
	3: ['group', { 1: 's', 2: 's' }, ['name', 'role']],
	4: ['precisionLocation', { 1: 's', 2: 's' }, ['geopointsrc', 'altsrc']],
	5: ['status', { 1: 'u' }, ['battery']],
	6: ['takv', { 1: 's', 2: 's', 3: 's', 4: 's' }, ['device', 'platform', 'os', 'version']],
	7: ['track', { 1: 'd', 2: 'd' }, ['speed', 'course']],
};

function decodeDetail(buf) {
	const d = { xmlDetail: '' };
	for (const f of walk(buf)) {
		if (f.field === 1 && f.wt === 2) d.xmlDetail = utf8.decode(f.bytes);
		else if (DETAIL_SUBS[f.field] && f.wt === 2) {
			const [name, kinds, names] = DETAIL_SUBS[f.field];
			d[name] = decodeFlat(f.bytes, kinds, names);
		}
	}
	return d;
}

// ------------------------------------------------- docs/release.md §6 text

// printf("%.Pg", x) for a finite double.
export function fmtG(x, p) {
	if (x === 0) return Object.is(x, -0) ? '-0' : '0';
	const exp = Number(x.toExponential(p - 1).split('e')[1]);
	let s;
	if (exp < -4 || exp >= p) {
		let [m, e] = x.toExponential(p - 1).split('e');
		if (m.includes('.')) m = m.replace(/0+$/, '').replace(/\.$/, '');
		const en = Number(e);
		s = `${m}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
	} else {
		s = x.toFixed(Math.max(0, p - 1 - exp));
		if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
	}
	return s;
}

// A number as §2 writes it: %.15g, or %.17g when that does not read back.
export function fmtNum(x) {
	const s = fmtG(x, 15);
	return Number(s) === x && Object.is(Number(s), x) ? s : fmtG(x, 17);
}

export function escAttr(s) {
	return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
		.replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

export function fmtTime(ms) {
	return new Date(ms).toISOString();   // YYYY-MM-DDThh:mm:ss.mmmZ for years 0001-9999... from 1970 on
}

// The direct child element names of an XML fragment (good enough for the
// xmlDetail node-cot writes: no DOCTYPE, no PI).
function childNames(xml) {
	const names = new Set();
	let depth = 0;
	const re = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<(\/?)([A-Za-z_][A-Za-z0-9_.-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g;
	let m;
	while ((m = re.exec(xml))) {
		if (!m[2]) continue;
		if (m[1]) { depth--; continue; }
		if (depth === 0) names.add(m[2]);
		if (!m[4]) depth++;
	}
	return names;
}

// The detail text D of docs/release.md §2 for a decoded detail.
export function detailText(d) {
	const a = (name, v) => (v === undefined ? '' : ` ${name}="${escAttr(v)}"`);
	const have = childNames(d.xmlDetail);
	let D = d.xmlDetail;
	const typed = [
		['contact', 'contact', (m) => `<contact${a('endpoint', m.endpoint)}${a('callsign', m.callsign)}/>`],
		['__group', 'group', (m) => `<__group${a('name', m.name)}${a('role', m.role)}/>`],
		['precisionlocation', 'precisionLocation', (m) => `<precisionlocation${a('geopointsrc', m.geopointsrc)}${a('altsrc', m.altsrc)}/>`],
		['status', 'status', (m) => `<status battery="${m.battery ?? 0}"/>`],
		['takv', 'takv', (m) => `<takv${a('device', m.device)}${a('platform', m.platform)}${a('os', m.os)}${a('version', m.version)}/>`],
		['track', 'track', (m) => `<track speed="${fmtNum(m.speed ?? 0)}" course="${fmtNum(m.course ?? 0)}"/>`],
	];
	for (const [el, field, render] of typed) {
		if (d[field] && !have.has(el)) D += render(d[field]);
	}
	return D;
}

// The whole XML conversion of a decoded event (docs/release.md §6).
export function referenceXml(e) {
	const a = (name, v) => (v === undefined ? '' : ` ${name}="${escAttr(v)}"`);
	let s = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';
	s += `<event version="2.0"${a('uid', e.uid)}${a('type', e.type)}${a('how', e.how)}`;
	s += ` time="${fmtTime(e.sendTime)}" start="${fmtTime(e.startTime)}" stale="${fmtTime(e.staleTime)}"`;
	s += `${a('access', e.access)}${a('qos', e.qos)}${a('opex', e.opex)}${a('caveat', e.caveat)}${a('releasableTo', e.releaseableTo)}>`;
	s += `<point lat="${fmtNum(e.lat)}" lon="${fmtNum(e.lon)}" hae="${fmtNum(e.hae)}" ce="${fmtNum(e.ce)}" le="${fmtNum(e.le)}"/>`;
	if (e.detail) s += `<detail>${detailText(e.detail)}</detail>`;
	return s + '</event>';
}

// ---------------------------------------------------------------- misc

export const hex = (b) => Buffer.from(b).toString('hex');
export const unhex = (s) => new Uint8Array(Buffer.from(s, 'hex'));
export const startsWith = (b, p) => p.every((x, i) => b[i] === x);

// The attributes of the <event> start tag, read with our own parsing (not
// node-cot's): name -> decoded value.  Only for well-formed input.
export function eventAttrs(xml) {
	const m = /<event\b((?:[^>"']|"[^"]*"|'[^']*')*)>/.exec(xml);
	if (!m) return null;
	const out = {};
	const re = /([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*("([^"]*)"|'([^']*)')/g;
	let a;
	while ((a = re.exec(m[1]))) out[a[1]] = xmlUnescape(a[3] ?? a[4]);
	return out;
}

export function xmlUnescape(s) {
	return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, e) => {
		if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
		return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e];
	});
}
