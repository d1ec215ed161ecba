/** Fakes for the client association tests: a scripted ApduChannel and the APDUs of the Gurux recordings. */
import type { ApduChannel } from '../../lib/client/channel';
import { type MeterOptions, resolveOptions } from '../../lib/client/options';
import type { DlmsError } from '../../lib/errors';
import { TimeoutError } from '../../lib/errors';
import type { CounterReservation, CounterStore } from '../../lib/security/counter-store';
import { scanHdlc } from '../../lib/translate/hdlc';
import { concatBytes } from '../../lib/util/bytes';
import { guruxExchange } from '../helpers/fixtures';

export type Responder = (request: Uint8Array, index: number) => Uint8Array | undefined;

/** An ApduChannel whose peer is a function (or a list of answers); records what was sent. */
export class FakeChannel implements ApduChannel {
  /** 'hdlc' where the answers are HDLC messages (the client then removes LLC headers between APDUs). */
  framing: 'hdlc' | 'wrapper' = 'wrapper';
  readonly description = 'fake channel';
  readonly sent: Uint8Array[] = [];
  readonly unconfirmed: Uint8Array[] = [];
  closed = 0;
  private unsolicited: ((apdu: Uint8Array) => void)[] = [];
  private lost: ((e: DlmsError) => void)[] = [];
  private readonly respond: Responder;

  constructor(answers: Responder | Uint8Array[]) {
    this.respond = typeof answers === 'function' ? answers : (_req, i) => answers[i];
  }

  async request(apdu: Uint8Array): Promise<Uint8Array> {
    const i = this.sent.length;
    this.sent.push(apdu.slice());
    const answer = this.respond(apdu, i);
    if (!answer) throw new TimeoutError('no-response', `fake meter: no answer for request ${i}`);
    return answer;
  }

  async send(apdu: Uint8Array): Promise<void> {
    this.unconfirmed.push(apdu.slice());
  }

  onUnsolicited(listener: (apdu: Uint8Array) => void): void {
    this.unsolicited.push(listener);
  }

  onLost(listener: (error: DlmsError) => void): void {
    this.lost.push(listener);
  }

  push(apdu: Uint8Array): void {
    for (const l of this.unsolicited) l(apdu);
  }

  async close(): Promise<void> {
    this.closed++;
  }
}

/** A counter store that hands out exactly the given values, one per reservation (recorded ICs with gaps). */
export class ScriptedCounterStore implements CounterStore {
  readonly reservations: CounterReservation[] = [];
  constructor(private readonly values: number[]) {}
  async reserve(): Promise<CounterReservation> {
    const v = this.values.shift();
    if (v === undefined) throw new Error('scripted counter store exhausted');
    const r = { first: v, last: v };
    this.reservations.push(r);
    return r;
  }
  async setAtLeast(): Promise<void> {}
  async peek(): Promise<number | undefined> {
    return this.values[0];
  }
}

export interface RecordedApdus {
  tx: Uint8Array[];
  rx: Uint8Array[];
  header: Record<string, string>;
  comment: string;
}

/** The APDUs of a recording in order, wrapper headers or HDLC framing removed. */
export function recordedApdus(file: string): RecordedApdus {
  const ex = guruxExchange(file);
  const comment = ex.text
    .split('\n')
    .filter((l) => l.startsWith('#'))
    .join(' ');
  const lines = ex.lines.filter((l) => !l.text);
  const pick = (dir: 'TX' | 'RX'): Uint8Array[] => {
    const mine = lines.filter((l) => l.dir === dir).map((l) => l.bytes);
    if (file.includes('-hdlc-')) return scanHdlc(concatBytes(...mine)).apdus.map((a) => a.bytes);
    // Wrapper: version(2) source(2) destination(2) length(2), then the APDU.
    return mine.filter((b) => b[0] === 0 && b[1] === 1).map((b) => b.subarray(8));
  };
  return { tx: pick('TX'), rx: pick('RX'), header: ex.header, comment };
}

const MECHANISMS = ['none', 'low', 'high', 'high-md5', 'high-sha1', 'high-gmac', 'high-sha256', 'high-ecdsa'] as const;

/** MeterOptions a user would give for the recorded session (keys from the file's comment). */
export function optionsForRecording(file: string, r: RecordedApdus, extra: Partial<MeterOptions> = {}): MeterOptions {
  const auth = MECHANISMS[Number(r.header['Authentication'] ?? 0)]!;
  const given: Partial<MeterOptions> = {
    host: '127.0.0.1',
    framing: file.includes('-hdlc-') ? 'hdlc' : 'wrapper',
    referencing: file.startsWith('sn-') ? 'sn' : 'ln',
    clientAddress: Number(r.header['ClientAddress']),
    serverAddress: Number(r.header['ServerAddress'] ?? 1),
    authentication: auth,
  };
  if (auth !== 'none' && auth !== 'high-gmac') given.password = 'Gurux';
  if (/block cipher key/i.test(r.comment) || r.header['Block cipher key']) {
    given.blockCipherKey = '000102030405060708090A0B0C0D0E0F';
    given.authenticationKey = 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF';
  }
  if (r.header['Security'] === '48') given.security = 'auth-enc';
  return resolveOptions({ ...given, ...extra });
}
