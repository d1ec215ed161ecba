/** `dlms translate HEX…`: any PDU, HDLC frame(s) or wrapper frame(s) → a readable JSON tree on stdout. */
import * as fs from 'node:fs';
import { UsageError } from '../../errors';
import { translate, TranslateKeys } from '../../translate';
import { fromHex } from '../../util/hex';
import { CommandFlag, flagHelp, parseArgs } from '../args';
import { Io, toJson } from '../output';
import type { Command } from './index';

const FLAGS: readonly CommandFlag[] = [
  { flag: 'json', takesValue: false, help: 'One JSON document on stdout (the default for translate).' },
  { flag: 'compact', takesValue: false, help: 'JSON on one line.' },
  { flag: 'file', takesValue: true, help: 'Read the hex from a file ("-" for standard input).' },
  { flag: 'ek', takesValue: true, secret: true, help: 'Block cipher key (GUEK), to decipher protected APDUs.' },
  { flag: 'ak', takesValue: true, secret: true, help: 'Authentication key (GAK), to verify their tags.' },
  { flag: 'dedicated-key', takesValue: true, secret: true, help: 'Dedicated key, for ded- APDUs whose AARQ is not in the input.' },
  { flag: 'system-title', takesValue: true, help: "The sender's system title, where the input does not carry it." },
];

function keyFlag(flags: Record<string, string | boolean>, name: string, lengths: number[]): Uint8Array | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = fromHex(String(v));
  } catch {
    throw new UsageError('bad-option', `--${name}: expected hex bytes (digits 0-9, A-F)`);
  }
  if (!lengths.includes(bytes.length)) throw new UsageError('bad-option', `--${name}: expected ${lengths.join(' or ')} bytes, got ${bytes.length}`);
  return bytes;
}

export const translateCommand: Command = {
  name: 'translate',
  summary: 'Decode a PDU, HDLC frame(s) or wrapper frame(s) into readable JSON.',
  help: () =>
    [
      'Usage: dlms translate [options] HEX…',
      '',
      'HEX may contain spaces, colons or newlines, and may be split over several arguments. It can be a raw APDU',
      '(or several back to back), a whole HDLC frame or a run of frames (segments are reassembled), wrapper frames,',
      'wired M-Bus long frames (DLMS segments reassembled) or the IEC 62056-21 sign-on messages. Protected APDUs are',
      'deciphered when --ek is given.',
      '',
      'Options:',
      flagHelp(FLAGS),
      '',
      'Example:',
      '  dlms translate 7EA00A000282FF6193CA097E',
    ].join('\n'),
  async run(argv: readonly string[], io: Io): Promise<number> {
    const { flags, positionals } = parseArgs(argv, FLAGS, false);
    let text = positionals.join(' ');
    if (flags.file !== undefined) {
      const file = String(flags.file);
      try {
        text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (e) {
        throw new UsageError('bad-file', `--file: cannot read ${file}: ${(e as Error).message}`);
      }
    }
    if (!text.trim()) throw new UsageError('missing-argument', 'give the hex to translate, e.g. dlms translate 7EA00A000282FF6193CA097E');
    let bytes: Uint8Array;
    try {
      bytes = fromHex(text, 'input');
    } catch (e) {
      throw new UsageError('bad-hex', (e as Error).message);
    }
    const keys: TranslateKeys = {};
    const ek = keyFlag(flags, 'ek', [16, 32]);
    const ak = keyFlag(flags, 'ak', [16, 32]);
    const dk = keyFlag(flags, 'dedicated-key', [16, 32]);
    const st = keyFlag(flags, 'system-title', [8]);
    if (ek) keys.blockCipherKey = ek;
    if (ak) keys.authenticationKey = ak;
    if (dk) keys.dedicatedKey = dk;
    if (st) keys.systemTitle = st;
    const result = translate(bytes, keys);
    io.stdout(toJson(result, flags.compact ? 0 : 2) + '\n');
    const failed = result.apdus.some((a) => typeof a === 'object' && a !== null && !Array.isArray(a) && 'error' in a);
    return failed ? 1 : 0;
  },
};
