// SPDX-License-Identifier: Apache-2.0
//
// Independent RFC 8785 reference for the differential test (jcs-diff.sh).
// JavaScript is the reference platform of JCS: JSON.stringify writes
// strings and numbers exactly as RFC 8785 wants, and the default sort
// compares UTF-16 code units.  This file generates random I-JSON texts
// from a seed and writes, for each, NNNN.in (the text) and NNNN.want
// (its canonical form).  It shares no code with src/jcs.c.
//
// usage: node jcs-diff.js OUTDIR [COUNT] [SEED]
'use strict';

const fs = require('fs');
const path = require('path');

// mulberry32: small, seedable, good enough for test data.
function rng(seed) {
	let a = seed >>> 0;
	return function () {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function canon(v) {
	if (v === null)
		return 'null';
	if (typeof v === 'boolean' || typeof v === 'number' ||
	    typeof v === 'string')
		return JSON.stringify(v);
	if (Array.isArray(v))
		return '[' + v.map(canon).join(',') + ']';
	return '{' + Object.keys(v).sort().map(
	    (k) => JSON.stringify(k) + ':' + canon(v[k])).join(',') + '}';
}

function makeGen(rand) {
	const int = (n) => Math.floor(rand() * n);
	const pick = (a) => a[int(a.length)];
	const u4 = (u) => '\\u' + u.toString(16).padStart(4, '0');
	const ws = () => pick(['', '', '', ' ', '\n', '\t', '\r\n  ']);

	function isNonchar(cp) {
		return (cp >= 0xfdd0 && cp <= 0xfdef) ||
		    (cp & 0xfffe) === 0xfffe;
	}

	function codePoint() {
		for (;;) {
			let cp;
			switch (int(8)) {
			case 0: cp = int(0x20); break;		// controls
			case 1: cp = pick([0x22, 0x5c, 0x2f, 0x7f]); break;
			case 2: cp = 0x80 + int(0x780); break;	// 2-byte
			case 3: cp = 0x800 + int(0xd000); break; // to D7FF
			case 4: cp = 0xe000 + int(0x2000); break; // E000..
			case 5: cp = 0x10000 + int(0x100000); break; // astral
			case 6: cp = pick([0x2028, 0x2029, 0xfeff, 0xfffd,
			    0xe000, 0xffef, 0x10000, 0x10fffd, 0x1f602]);
				break;
			default: cp = 0x20 + int(0x5f); break;	// ASCII
			}
			if ((cp >= 0xd800 && cp <= 0xdfff) || isNonchar(cp))
				continue;
			return cp;
		}
	}

	// Returns [decoded JS string, JSON text of it with random escapes].
	function string(maxLen) {
		let s = '', t = '"';
		const n = int(maxLen + 1);
		for (let i = 0; i < n; i++) {
			const cp = codePoint();
			const c = String.fromCodePoint(cp);
			s += c;
			if (cp === 0x22 || cp === 0x5c)
				t += '\\' + c;
			else if (cp < 0x20 || int(6) === 0) {
				if (cp >= 0x10000) {
					const v = cp - 0x10000;
					t += u4(0xd800 + (v >> 10)) +
					    u4(0xdc00 + (v & 0x3ff));
				} else if (int(3) === 0 &&
				    [8, 9, 10, 12, 13].includes(cp)) {
					t += JSON.stringify(c).slice(1, -1);
				} else {
					t += int(2) ? u4(cp) :
					    u4(cp).toUpperCase().replace('\\U',
						'\\u');
				}
			} else if (cp === 0x2f && int(2))
				t += '\\/';
			else
				t += c;
		}
		return [s, t + '"'];
	}

	const f64 = new Float64Array(1);
	const u32 = new Uint32Array(f64.buffer);

	function randomBitsDouble() {
		for (;;) {
			u32[0] = int(4294967296);
			u32[1] = int(4294967296);
			if (Number.isFinite(f64[0]))
				return f64[0];
		}
	}

	// How the value is spelt in the input: any form that reads back
	// as the same double and that the strict parser accepts.
	function spell(x) {
		if (Object.is(x, -0))
			return pick(['-0', '-0.0', '-0e3']);
		const safe = Number.isInteger(x) && Math.abs(x) <= 2 ** 53;
		if (Number.isInteger(x) && !safe)
			return x.toExponential();
		switch (int(4)) {
		case 0: return x.toExponential();
		case 1: return x.toPrecision(17).replace(/e\+?/, 'E');
		case 2: return safe ? x.toFixed(int(3)) : x.toExponential();
		default: return String(x);
		}
	}

	function number() {
		let x;
		switch (int(9)) {
		case 0: x = int(1000) - 500; break;
		case 1: x = (int(2) ? 1 : -1) * int(2 ** 53 + 1); break;
		case 2: x = (int(2) ? 1 : -1) * 2 ** 53; break;
		case 3: x = randomBitsDouble(); break;
		case 4: x = (int(2) ? 1 : -1) * int(1e6) / pick([10, 100,
			    1e3, 1e7, 1e9]); break;
		case 5: x = pick([1e21, 1e-7, 1e-6, 9.999999999999999e20,
			    1e20, 5e-324, 1.7976931348623157e308, -0, 0.1,
			    0.3, 2 ** -1074, 2 ** 1023, 2 ** 60]); break;
		case 6: x = rand() * 10 ** (int(600) - 300); break;
		case 7: x = -0; break;
		default: x = rand(); break;
		}
		return [x, spell(x)];
	}

	// Returns [value, text].
	function value(depth) {
		const k = depth > 5 ? int(4) : int(7);
		switch (k) {
		case 0: return number();
		case 1: return string(12);
		case 2: return pick([[true, 'true'], [false, 'false'],
		    [null, 'null']]);
		case 3: return number();
		case 4: {
			const n = int(6), v = [], t = [];
			for (let i = 0; i < n; i++) {
				const [a, b] = value(depth + 1);
				v.push(a);
				t.push(ws() + b + ws());
			}
			return [v, '[' + t.join(',') + ']'];
		}
		default: {
			const n = int(8), v = {}, t = [];
			for (let i = 0; i < n; i++) {
				const [name, nameText] = string(int(3) ? 4 : 10);
				if (Object.prototype.hasOwnProperty.call(v,
				    name) || name.includes('\0') ||
				    name === '__proto__')
					continue;
				const [a, b] = value(depth + 1);
				Object.defineProperty(v, name, { value: a,
				    enumerable: true, writable: true,
				    configurable: true });
				t.push(ws() + nameText + ws() + ':' + ws() +
				    b + ws());
			}
			return [v, '{' + t.join(',') + '}'];
		}
		}
	}

	// Many doubles at once: the number formatter's widest sweep.
	function numberSweep() {
		const v = [], t = [];
		for (let i = 0; i < 500; i++) {
			const x = int(2) ? randomBitsDouble() : number()[0];
			v.push(x);
			t.push(spell(x));
		}
		return [v, '[' + t.join(',') + ']'];
	}

	return { value, numberSweep };
}

function main() {
	const out = process.argv[2];
	const count = parseInt(process.argv[3] || '300', 10);
	const seed = parseInt(process.argv[4] || '8785', 10);
	if (!out) {
		process.stderr.write('usage: node jcs-diff.js OUTDIR [COUNT] ' +
		    '[SEED]\n');
		process.exit(2);
	}
	const gen = makeGen(rng(seed));
	for (let i = 0; i < count; i++) {
		const [v, text] = i % 10 === 9 ? gen.numberSweep() :
		    gen.value(0);
		// Self-check: the text must mean the value we think it does.
		const want = canon(v);
		if (canon(JSON.parse(text)) !== want)
			throw new Error('generator bug at document ' + i);
		const base = path.join(out, String(i).padStart(5, '0'));
		fs.writeFileSync(base + '.in', Buffer.from(text, 'utf8'));
		fs.writeFileSync(base + '.want', Buffer.from(want, 'utf8'));
	}
}

main();
