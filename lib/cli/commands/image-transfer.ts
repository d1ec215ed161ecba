/**
 * `dlms image-transfer FILE --image-id ID [--activate]`: firmware upgrade through the Image transfer object (class
 * 18). Progress goes to stderr: a redrawn bar on a terminal, plain lines otherwise, nothing with --json. Running the
 * same command again after a dropped link resumes: only the blocks the meter lacks are sent.
 */
import * as fs from 'node:fs';
import { clientImagePort, IMAGE_TRANSFER_OBIS, type ImageTransferProgress, transferImage } from '../../client/image-transfer';
import { parseObis, formatObis } from '../../cosem/obis';
import { DlmsError, LinkError, MediaError, ServiceError, toDlmsError, UsageError } from '../../errors';
import { fromHex } from '../../util/hex';
import { CommandFlag, parseArgs, type ParsedArgs } from '../args';
import { Io, toJson } from '../output';
import { COMMON_FLAGS, EXIT_CONNECT, meterCommandHelp, withClient } from '../session';
import type { Command } from './index';

const FLAGS: readonly CommandFlag[] = [
  { flag: 'image-id', takesValue: true, help: 'image_identifier as text (UTF-8), e.g. --image-id FW-2.1.0.' },
  { flag: 'image-id-hex', takesValue: true, help: 'image_identifier as hex bytes (instead of --image-id).' },
  { flag: 'activate', takesValue: false, help: 'Activate the image after it verified (image_activate).' },
  { flag: 'object', takesValue: true, help: `OBIS of the Image transfer object (default ${IMAGE_TRANSFER_OBIS}).` },
  { flag: 'poll-interval', takesValue: true, help: 'ms between image_transfer_status reads while the meter verifies/activates (1000).' },
  { flag: 'poll-limit', takesValue: true, help: 'status reads before giving up on a verify/activate still under way (60).' },
];

interface Request {
  file: string;
  imageId: string | Uint8Array;
  activate: boolean;
  obis: string;
  statusPollIntervalMs?: number;
  statusPollLimit?: number;
}

function positiveInt(args: ParsedArgs, flag: string): number | undefined {
  const text = args.flags[flag];
  if (text === undefined) return undefined;
  const n = Number(text);
  if (typeof text !== 'string' || !Number.isInteger(n) || n < 1) throw new UsageError('bad-option', `--${flag}: expected a whole number ≥ 1, got ${JSON.stringify(text)}`);
  return n;
}

function request(args: ParsedArgs): Request {
  const [file, ...extra] = args.positionals;
  if (!file || extra.length > 0) throw new UsageError('missing-argument', 'give one image FILE, e.g. dlms image-transfer --host H --client 1 … firmware.bin --image-id FW-2.1.0');
  const text = args.flags['image-id'];
  const hex = args.flags['image-id-hex'];
  if ((text === undefined) === (hex === undefined)) throw new UsageError('missing-image-id', 'give the image identifier with --image-id TEXT or --image-id-hex HEX (one of them)');
  const objectText = args.flags['object'];
  let obis = IMAGE_TRANSFER_OBIS;
  if (typeof objectText === 'string') obis = formatObis(parseObis(objectText));
  const r: Request = {
    file,
    imageId: typeof hex === 'string' ? fromHex(hex, '--image-id-hex') : String(text),
    activate: args.flags['activate'] === true,
    obis,
  };
  const interval = positiveInt(args, 'poll-interval');
  const limit = positiveInt(args, 'poll-limit');
  if (interval !== undefined) r.statusPollIntervalMs = interval;
  if (limit !== undefined) r.statusPollLimit = limit;
  return r;
}

function readImage(file: string): Uint8Array {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (e) {
    throw new UsageError('unreadable-file', `cannot read the image file ${file}: ${(e as Error).message}`);
  }
  // image_size is a double-long-unsigned; a bigger file is refused before reading it.
  if (size > 0xffffffff) throw new UsageError('image-too-large', `${file} has ${size} bytes; image_size is at most 4294967295`);
  try {
    return new Uint8Array(fs.readFileSync(file));
  } catch (e) {
    throw new UsageError('unreadable-file', `cannot read the image file ${file}: ${(e as Error).message}`);
  }
}

const BAR_WIDTH = 30;

/** Progress on stderr: a bar redrawn in place on a terminal, a line per phase and per tenth of the blocks elsewhere. */
export function progressPrinter(io: Io): { update(p: ImageTransferProgress): void; end(): void } {
  let lastPhase = '';
  let lastTenth = -1;
  let drawn = false;
  return {
    update(p) {
      const share = p.blocksToSend === 0 ? 1 : p.blocksSent / p.blocksToSend;
      if (io.stderrIsTty) {
        const filled = Math.round(share * BAR_WIDTH);
        const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
        io.stderr(`\r${p.phase.padEnd(9)}[${bar}] ${p.blocksSent}/${p.blocksToSend} blocks`);
        drawn = true;
        return;
      }
      const tenth = Math.floor(share * 10);
      if (p.phase === lastPhase && (p.phase !== 'transfer' || tenth === lastTenth)) return;
      if (p.phase !== lastPhase && p.phase === 'transfer') {
        const held = p.blocks - p.blocksToSend;
        io.stderr(`transfer: ${p.blocksToSend} of ${p.blocks} blocks of ${p.blockSize} bytes to send${held > 0 ? ` (${held} already on the meter: resuming)` : ''}\n`);
      } else if (p.phase === 'transfer') io.stderr(`transfer: ${p.blocksSent}/${p.blocksToSend} blocks (${tenth * 10} %)\n`);
      else io.stderr(`${p.phase}\n`);
      lastPhase = p.phase;
      lastTenth = tenth;
    },
    end() {
      if (drawn) io.stderr('\n');
      drawn = false;
    },
  };
}

export const imageTransferCommand: Command = {
  name: 'image-transfer',
  summary: 'Firmware upgrade: send FILE through Image transfer (class 18), verify, optionally activate.',
  help: () =>
    meterCommandHelp(
      [
        'Usage: dlms image-transfer [options] FILE --image-id ID [--activate]',
        '',
        'Reads image_block_size, initiates, sends the blocks the meter does not hold yet, verifies and (with',
        '--activate) activates. After a dropped link, run the same command again: it resumes from the blocks the',
        'meter reports (image_transferred_blocks_status), sending only the missing ones.',
        'Needs a management client (the public client cannot see the object).',
        'Example: dlms image-transfer --host H --client 1 --auth high-gmac … fw.bin --image-id FW-2.1.0 --activate',
      ],
      [...COMMON_FLAGS, ...FLAGS],
    ),
  run: async (argv: readonly string[], io: Io) => {
    // Usage mistakes and an unreadable file are reported before connecting.
    const parsed = parseArgs(argv, [...COMMON_FLAGS, ...FLAGS], true);
    const r = request(parsed);
    const image = readImage(r.file);
    if (image.length === 0) throw new UsageError('empty-image', `${r.file} is empty`);
    return withClient(parsed, io, async (client, args) => {
      const json = args.flags.json === true;
      const progress = progressPrinter(io);
      try {
        const result = await transferImage(clientImagePort(client, r.obis), image, {
          imageId: r.imageId,
          activate: r.activate,
          ...(json ? {} : { onProgress: (p: ImageTransferProgress) => progress.update(p) }),
          ...(r.statusPollIntervalMs !== undefined ? { statusPollIntervalMs: r.statusPollIntervalMs } : {}),
          ...(r.statusPollLimit !== undefined ? { statusPollLimit: r.statusPollLimit } : {}),
        });
        progress.end();
        if (json) io.stdout(toJson(result) + '\n');
        else {
          const held = result.blocksHeld > 0 ? ` (${result.blocksHeld} were already on the meter)` : '';
          io.stdout(`image ${result.imageId}: ${result.size} bytes, ${result.blocks} blocks of ${result.blockSize}; sent ${result.blocksSent}${held}; verified${result.activated ? ', activated' : ''}\n`);
        }
        return 0;
      } catch (e) {
        progress.end();
        const err: DlmsError = toDlmsError(e);
        if (err instanceof UsageError) throw err;
        if (json) io.stdout(toJson({ error: err.toJSON() }) + '\n');
        io.stderr(`image-transfer  ERROR ${err.code}: ${err.message}\n`);
        // Anything but the meter's own answer means the link may be gone; what arrived is kept by the meter.
        if (!(err instanceof ServiceError) && !err.code.startsWith('image-')) io.stderr('Run the same command again to resume: only the blocks the meter lacks are sent.\n');
        return err instanceof LinkError || err instanceof MediaError ? EXIT_CONNECT : 1;
      }
    });
  },
};
