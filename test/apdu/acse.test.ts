import { strict as assert } from 'node:assert';
import { DecodeError, DlmsError } from '../../lib/errors';
import { ByteReader, ByteWriter } from '../../lib/util/bytes';
import { fromHex, toHex } from '../../lib/util/hex';
import {
  type Aare,
  type Aarq,
  ACSE_REQUIREMENTS_AUTHENTICATION,
  type AcseApdu,
  aareServiceError,
  applicationContext,
  decodeAcse,
  decodeAcseBytes,
  encodeAcse,
  mechanism,
  type Rlre,
} from '../../lib/apdu/acse';
import { conformanceNames } from '../../lib/apdu/conformance';
import { guruxExchange, guruxFiles, vectors } from '../helpers/fixtures';

function encode(apdu: AcseApdu): string {
  const w = new ByteWriter();
  encodeAcse(w, apdu);
  return toHex(w.toBytes());
}

/** APDU bytes of each wrapper message / single-frame HDLC I-frame in a recording. */
function recordedApdus(name: string): { dir: string; line: number; apdu: Uint8Array }[] {
  const out: { dir: string; line: number; apdu: Uint8Array }[] = [];
  for (const l of guruxExchange(name).lines) {
    const b = l.bytes;
    if (l.text || b.length < 9) continue;
    if (b[0] === 0x00 && b[1] === 0x01) {
      out.push({ dir: l.dir, line: l.line, apdu: b.subarray(8) });
      continue;
    }
    if (b[0] !== 0x7e || (b[1]! & 0x08) !== 0) continue; // skip segmented frames
    let i = 3;
    while (!(b[i]! & 1)) i++;
    i++;
    while (!(b[i]! & 1)) i++;
    i++;
    const control = b[i]!;
    if ((control & 1) !== 0) continue; // not an I-frame
    const info = b.subarray(i + 3, b.length - 3);
    if (info.length > 3 && info[0] === 0xe6 && (info[1] === 0xe6 || info[1] === 0xe7)) out.push({ dir: l.dir, line: l.line, apdu: info.subarray(3) });
  }
  return out;
}

interface VectorField {
  tag: string;
  name: string;
  oid?: string;
  result?: number;
  source?: string;
  diagnostic?: number;
  meaning?: string;
  'system-title'?: string;
  'authentication-value'?: string;
  reason?: number;
  xdlms?: Record<string, unknown>;
}

describe('apdu/acse', () => {
  describe('vectors', () => {
    for (const v of vectors('acse')) {
      it(`${v.id}: decodes every field and re-encodes byte-exact`, () => {
        const hex = v.apdu as string;
        const apdu = decodeAcseBytes(fromHex(hex));
        assert.equal(apdu.warnings, undefined);
        assert.equal(apdu.unknownFields, undefined);
        const decoded = v.decoded as { apdu: string; fields: VectorField[] };
        assert.equal(apdu.kind, decoded.apdu.toLowerCase());
        const a = apdu as unknown as Record<string, unknown>;
        for (const f of decoded.fields) {
          switch (f.tag) {
            case 'A1':
              assert.equal((a.applicationContextName as { oid: string }).oid, f.oid);
              break;
            case '8B':
            case '89':
              assert.equal((a.mechanismName as { oid: string }).oid, f.oid);
              break;
            case 'A6':
              assert.equal(toHex(a.callingApTitle as Uint8Array), f['system-title']);
              break;
            case 'AC':
              assert.deepEqual((a as unknown as Aarq).callingAuthenticationValue, { choice: 'charstring', value: fromHex(f['authentication-value']!) });
              break;
            case 'AA':
              assert.equal(toHex((a as unknown as Aare).respondingAuthenticationValue!.value), f['authentication-value']);
              break;
            case '8A':
            case '88':
              assert.deepEqual(a[f.tag === '8A' ? 'senderAcseRequirements' : 'responderAcseRequirements'], ACSE_REQUIREMENTS_AUTHENTICATION);
              break;
            case 'A2':
              assert.equal(a.result, f.result);
              assert.equal(a.resultName, f.meaning);
              break;
            case 'A3':
              assert.deepEqual(a.resultSourceDiagnostic, { source: f.source, value: f.diagnostic, name: f.meaning });
              break;
            case '80':
              assert.equal(a.reason, f.reason);
              assert.equal(a.reasonName, 'normal');
              break;
            case 'BE': {
              const x = f.xdlms!;
              const u = apdu.userInformation!;
              if (x.apdu === 'InitiateRequest') {
                assert.equal(u.kind, 'initiate-request');
                if (u.kind !== 'initiate-request') break;
                assert.equal(u.proposedDlmsVersionNumber, x['proposed-dlms-version-number']);
                assert.equal(u.proposedConformance, parseInt(x['conformance-hex'] as string, 16));
                assert.deepEqual(conformanceNames(u.proposedConformance), x.conformance);
                assert.equal(u.clientMaxReceivePduSize, x['client-max-receive-pdu-size']);
                assert.equal(u.dedicatedKey, undefined);
                assert.equal(u.responseAllowed, undefined);
              } else if (x.apdu === 'InitiateResponse') {
                assert.equal(u.kind, 'initiate-response');
                if (u.kind !== 'initiate-response') break;
                assert.equal(u.negotiatedDlmsVersionNumber, x['negotiated-dlms-version-number']);
                assert.equal(u.negotiatedQualityOfService, x['negotiated-quality-of-service'] ?? undefined);
                assert.equal(u.negotiatedConformance, parseInt(x['conformance-hex'] as string, 16));
                assert.equal(u.serverMaxReceivePduSize, x['server-max-receive-pdu-size']);
                assert.equal(u.vaaName, parseInt(x['vaa-name'] as string, 16));
              } else if (x.apdu === 'ConfirmedServiceError') {
                assert.deepEqual(u, {
                  kind: 'confirmed-service-error',
                  service: x.choice,
                  errorType: x['service-error-tag'],
                  value: x.value,
                  serviceName: 'initiate',
                  errorTypeName: 'initiate',
                  valueName: 'dlms-version-too-low',
                });
                assert.equal(aareServiceError(apdu as Aare), u);
              } else if (x.apdu === 'glo-initiate-request') {
                assert.equal(u.kind, 'glo-initiate-request');
                if (u.kind !== 'glo-initiate-request') break;
                assert.equal(u.securityControl, 0x30);
                assert.equal(u.invocationCounter, 0x01234567);
                assert.equal(toHex(u.payload), x['ciphertext-and-tag']);
              } else assert.fail(`unexpected xdlms ${String(x.apdu)}`);
              break;
            }
            default:
              assert.fail(`field ${f.tag} not checked`);
          }
        }
        assert.equal(encode(apdu), hex);
      });
    }

    it('names the application context and mechanism', () => {
      const aarq = decodeAcseBytes(fromHex(vectors('acse').find((v) => v.id === 'acse-aarq-hls5-no-cipher')!.apdu as string)) as Aarq;
      assert.deepEqual(aarq.applicationContextName, { oid: '2.16.756.5.8.1.1', name: 'logical-name' });
      assert.deepEqual(aarq.mechanismName, { oid: '2.16.756.5.8.2.5', name: 'high-gmac' });
      const ciphered = decodeAcseBytes(fromHex(vectors('acse').find((v) => v.id === 'acse-gb-ciphered-aarq-lls')!.apdu as string)) as Aarq;
      assert.equal(ciphered.applicationContextName.name, 'logical-name-with-ciphering');
      assert.equal(ciphered.mechanismName!.name, 'low');
    });

    it('builds the Green Book LLS AARQ from a model', () => {
      const aarq: Aarq = {
        kind: 'aarq',
        applicationContextName: applicationContext('logical-name'),
        senderAcseRequirements: ACSE_REQUIREMENTS_AUTHENTICATION,
        mechanismName: mechanism('low'),
        callingAuthenticationValue: { choice: 'charstring', value: new TextEncoder().encode('12345678') },
        userInformation: {
          kind: 'initiate-request',
          proposedDlmsVersionNumber: 6,
          proposedConformance: 0x007e1f,
          clientMaxReceivePduSize: 1200,
        },
      };
      assert.equal(encode(aarq), vectors('acse').find((v) => v.id === 'acse-gb-aarq-lls')!.apdu);
    });
  });

  describe('Gurux recordings', () => {
    for (const file of guruxFiles()) {
      it(`${file}: every AARQ/AARE/RLRQ/RLRE decodes and re-encodes byte-exact`, () => {
        let seen = 0;
        for (const { apdu, line } of recordedApdus(file)) {
          if (apdu[0]! < 0x60 || apdu[0]! > 0x63) continue;
          seen++;
          const decoded = decodeAcseBytes(apdu);
          if (decoded.kind === 'rlre' && decoded.userInformation) {
            // Gurux's server writes the RLRE and its user-information lengths wrong (outer = BE length + 2,
            // BE = octets length + 1); everything else must decode cleanly.
            assert.ok(decoded.warnings && decoded.warnings.length === 2, `line ${line}: ${String(decoded.warnings)}`);
          } else assert.equal(decoded.warnings, undefined, `line ${line}: ${String(decoded.warnings)}`);
          assert.equal(decoded.unknownFields, undefined, `line ${line}`);
          assert.equal(encode(decoded), toHex(apdu), `line ${line}`);
        }
        assert.ok(seen >= 2, `only ${seen} ACSE APDUs found`);
      });
    }

    it('reads the ciphered HLS AARE: system title, HLS challenge and glo-initiate-response', () => {
      const aare = recordedApdus('ln-hdlc-hls2-suite0-authenc.txt')
        .map((x) => x.apdu)
        .filter((b) => b[0] === 0x61)
        .map((b) => decodeAcseBytes(b) as Aare)
        .find((a) => a.respondingApTitle)!;
      assert.equal(toHex(aare.respondingApTitle!), '4752580000000001');
      assert.deepEqual(aare.resultSourceDiagnostic, { source: 'acse-service-user', value: 14, name: 'authentication-required' });
      assert.equal(aare.mechanismName!.name, 'high');
      assert.equal(aare.respondingAuthenticationValue!.value.length, 16);
      const u = aare.userInformation!;
      assert.equal(u.kind, 'glo-initiate-response');
      if (u.kind !== 'glo-initiate-response') return;
      assert.equal(u.securityControl, 0x30);
      assert.deepEqual(u.security, { suite: 0, authenticated: true, encrypted: true, broadcastKey: false, compressed: false });
      assert.equal(u.payload.length, 0x1f - 5);
    });

    it('reads the Gurux RLRE with its two wrong lengths and says so', () => {
      const rlre = decodeAcseBytes(fromHex('6311800100BE0F040E0800065F1F0400401E5D04000007')) as Rlre;
      assert.equal(rlre.reasonName, 'normal');
      assert.equal(rlre.userInformation!.kind, 'initiate-response');
      assert.deepEqual(rlre.declaredLengths, { apdu: 0x11, fields: { 0xbe: 0x0f } });
      assert.match(rlre.warnings![0]!, /RLRE length says 17 bytes but 21 were delivered/);
      assert.match(rlre.warnings![1]!, /RLRE user-information \(0xbe\) declares 15 bytes but 16 remain/);
    });
  });

  describe('tolerance', () => {
    const AARE = '6129A109060760857405080101A203020100A305A103020100BE10040E0800065F1F040000101D00800007';
    const BE = fromHex(AARE).indexOf(0xbe);

    function patched(hex: string, index: number, delta: number): Uint8Array {
      const b = fromHex(hex);
      b[index] = b[index]! + delta;
      return b;
    }

    for (const delta of [1, -1]) {
      it(`accepts an AARE whose outer length is ${delta > 0 ? 'one more' : 'one less'} than delivered, with a warning`, () => {
        const b = patched(AARE, 1, delta);
        const aare = decodeAcseBytes(b) as Aare;
        assert.equal(aare.result, 0);
        assert.equal(aare.userInformation!.kind, 'initiate-response');
        assert.equal(aare.warnings!.length, 1);
        assert.match(aare.warnings![0]!, new RegExp(`AARE length says ${0x29 + delta} bytes but 41 were delivered`));
        assert.equal(encode(aare), toHex(b));
      });

      it(`accepts an AARE whose user-information octet string length is off by ${delta}, with a warning`, () => {
        const b = patched(AARE, BE + 3, delta); // the 0E after BE 10 04
        assert.equal(b[BE + 2], 0x04);
        const aare = decodeAcseBytes(b) as Aare;
        assert.equal(aare.userInformation!.kind, 'initiate-response');
        assert.equal(aare.warnings!.length, 1);
        assert.match(aare.warnings![0]!, /AARE user-information octet string \(0x04\) declares/);
        assert.equal(encode(aare), toHex(b));
      });

      it(`accepts an AARE whose user-information (BE) length is off by ${delta}, with a warning`, () => {
        const b = patched(AARE, BE + 1, delta);
        assert.equal(b[BE], 0xbe);
        const aare = decodeAcseBytes(b) as Aare;
        assert.equal(aare.userInformation!.kind, 'initiate-response');
        assert.equal(aare.warnings!.length, 1);
        assert.equal(encode(aare), toHex(b));
      });
    }

    it('gives DecodeError for a truncated AARQ, at every cut', () => {
      const full = fromHex(vectors('acse').find((v) => v.id === 'acse-gb-aarq-lls')!.apdu as string);
      for (let n = 0; n < full.length - 1; n++) {
        assert.throws(() => decodeAcseBytes(full.subarray(0, n)), DecodeError, `cut at ${n}`);
      }
    });

    it('never reads past the delivered bytes and fails only with DlmsErrors on corrupted input', () => {
      const base = fromHex(vectors('acse').find((v) => v.id === 'acse-gb-ciphered-aarq-lls')!.apdu as string);
      let seed = 12345;
      const rnd = (n: number): number => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      for (let i = 0; i < 3000; i++) {
        const b = base.slice(0, rnd(base.length + 1));
        for (let k = rnd(4); k >= 0; k--) if (b.length) b[rnd(b.length)] = rnd(256);
        // Hide bytes after the end to catch reads past it.
        const padded = new Uint8Array(b.length + 8).fill(0x04);
        padded.set(b);
        const r = new ByteReader(padded, 0, b.length, 'fuzz');
        try {
          decodeAcse(r);
          assert.ok(r.offset <= b.length);
        } catch (e) {
          assert.ok(e instanceof DlmsError, `input ${toHex(b)}: ${String(e)}`);
        }
      }
    });

    it('leaves trailing bytes after a well-formed APDU for the caller', () => {
      const b = fromHex('6203800100C0');
      const r = new ByteReader(b);
      const rlrq = decodeAcse(r);
      assert.equal(rlrq.warnings, undefined);
      assert.equal(r.remaining, 1);
    });

    it('keeps unknown fields raw and in place', () => {
      // RLRQ with an aso-qualifier [13] (AD) the codec does not model, between reason and user-information.
      const hex = '620A800100AD0302010ABE00';
      const rlrq = decodeAcseBytes(fromHex(hex));
      assert.deepEqual(rlrq.unknownFields, [
        { tag: 0xad, value: fromHex('02010A') },
        { tag: 0xbe, value: new Uint8Array(0) },
      ]);
      assert.equal(encode(rlrq), hex);
    });

    it('refuses an AARE without result', () => {
      assert.throws(() => decodeAcseBytes(fromHex('610BA109060760857405080101')), (e: unknown) => e instanceof DecodeError && /result/.test(e.message));
    });
  });
});
