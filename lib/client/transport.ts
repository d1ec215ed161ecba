/**
 * The client transport: turns the link and address part of a meter's configuration (ChannelPart; resolved MeterOptions
 * fit it as they are) into an open ApduChannel — a medium (TCP, UDP, serial; mode E first where asked) plus framing
 * (HDLC link or IEC 62056-47 wrapper). The framing drivers and their timers live in lib/transport (hdlc-channel.ts,
 * wrapper-channel.ts), shared in their parts with the simulator; what is the client's own is here: what to open from
 * the options, and the judgement over requests (the deadline, stale answers).
 *
 *   const channel = await openChannel(options, { trace });
 *   const aare = await channel.request(aarq, { redact: [20, 28] });   // mask bytes 20..27 in the trace
 *   await channel.close();                                              // DISC/UA over HDLC, then the medium closes
 *
 * Deadline: no request (nor the HDLC connect) may take longer than responseTimeout × (retries + 1), plus a grace of
 * one timeout (at most 1 s) so that the ordinary timeout, which names its cause better, ends first where it applies.
 * The response timer restarts whenever the meter sends a frame, so a meter that keeps sending (RR, RNR, UI frames,
 * segments, garbage, a never-ending trickle) would otherwise hold a request for ever. At the deadline the request
 * fails with TimeoutError 'request-deadline' and the link is dropped: its state is unknown by then. On a slow serial
 * line the time the request and the longest answer take on the line is granted on top.
 *
 * Trace (deps.trace): every frame (HDLC: decoded by describeFrame; wrapper: the header) and every APDU (hex, with its
 * kind), both directions; never the medium's raw chunks. Secrets never reach the trace: an AARQ naming LLS has its
 * password masked by the trace itself (lib/transport/trace.ts), and `request(apdu, { redact })` masks any
 * further byte ranges of an APDU (in its APDU event, and the information fields of the HDLC I-frames carrying it).
 *
 * Stale answers: `request(apdu, { stale })` takes the caller's judgement (lib/client/answer-match.ts), since invoke
 * ids may be inside a ciphertext; answers it calls stale are dropped, counted, and named in a timeout error.
 */
import { type DlmsError, TimeoutError, UsageError, toDlmsError } from '../errors';
import { formatAddress, serverAddress, type AddressSize, type HdlcAddress } from '../link/hdlc/address';
import { HdlcClientLink } from '../link/hdlc/client-link';
import { DEFAULT_PARAMETERS } from '../link/hdlc/parameters';
import { createMedium as defaultCreateMedium, type MediumSpec } from '../media';
import { performModeE } from '../media/mode-e-session';
import { withRequestGap } from '../media/paced';
import { isReframable, type Medium } from '../media/types';
import type { TraceSink } from '../trace';
import { HdlcRequestChannel, type HdlcRequestSettings } from '../transport/hdlc-channel';
import { serialInterFrameMs } from '../transport/line-time';
import { ChannelTrace } from '../transport/trace';
import type { RequestChannelSettings, RequestOptions, RequestPolicy, StaleCheck } from '../transport/request-channel';
import { WrapperRequestChannel } from '../transport/wrapper-channel';
import type { ApduChannel } from './channel';
import { HdlcProposalMemory, hdlcMeterKey, hdlcProposalMemory } from './hdlc-memory';
import type { ChannelPart } from './meter-config';
import { mediumKeyOf } from './shared-medium';

export type { ByteRange } from '../trace';
export type { RequestOptions } from '../transport/request-channel';

/** The deadline's grace beyond timeout × (retries + 1): one timeout, at most this. */
const DEADLINE_GRACE_MS = 1000;

/** The ApduChannel openChannel returns: request/send also take RequestOptions. */
export interface DlmsChannel extends ApduChannel {
  request(apdu: Uint8Array, options?: RequestOptions): Promise<Uint8Array>;
  send(apdu: Uint8Array, options?: RequestOptions): Promise<void>;
}

export interface TransportDeps {
  trace?: TraceSink;
  /** Builds the medium (tests inject the serialport mock or a scripted medium). */
  createMedium?: (spec: MediumSpec) => Medium;
  /** The pause of the mode E baud switch (tests make it wait for the meter's confirmation instead of a clock). */
  modeEDelay?: (ms: number) => Promise<void>;
  /** HDLC: drop a partial frame after this many ms without bytes (default: 50 ms or 3 characters on serial, 500 ms on a network). */
  interFrameTimeoutMs?: number;
  /** Longest wait for the DISC answer in close() (default: options.responseTimeout). */
  closeTimeoutMs?: number;
  /** Mode E: how long to wait for the identification (default 5000 ms). */
  modeETimeoutMs?: number;
  /** Meters that took only the classic HDLC parameters (default: the process-wide memory, lib/client/hdlc-memory.ts). */
  hdlcMemory?: HdlcProposalMemory;
}

/** The medium the options describe. */
export function mediumSpecFor(options: ChannelPart): MediumSpec {
  switch (options.medium) {
    case 'tcp':
    case 'udp':
      if (!options.host) throw new UsageError('bad-option', `host is required for a ${options.medium} link`);
      return { kind: options.medium, host: options.host, port: options.port };
    case 'serial':
      if (!options.serialPath) throw new UsageError('bad-option', 'serialPath is required for a serial link');
      return { kind: 'serial', path: options.serialPath, baudRate: options.baudRate, dataBits: 8, parity: options.parity, stopBits: options.stopBits === 2 ? 2 : 1 };
  }
}

function addressSize(n: number): AddressSize | undefined {
  return n === 1 || n === 2 || n === 4 ? n : undefined;
}

/** The HDLC server address from the options (physical part only when given). */
export function hdlcServerAddress(options: ChannelPart): HdlcAddress {
  return serverAddress({
    logical: options.serverAddress,
    ...(options.physicalAddress > 0 ? { physical: options.physicalAddress } : {}),
    ...(addressSize(options.addressSize) ? { size: addressSize(options.addressSize) } : {}),
  });
}

/** Opens the medium, signs on (mode E) and connects the framing; resolves once APDUs can flow. */
export async function openChannel(options: ChannelPart, deps: TransportDeps = {}): Promise<DlmsChannel> {
  if (options.framing === 'wrapper' && options.medium === 'serial') {
    throw new UsageError('bad-option', 'the wrapper framing runs over tcp or udp; use framing hdlc on a serial port');
  }
  if (options.modeE && options.framing !== 'hdlc') throw new UsageError('bad-option', 'mode E needs HDLC framing');
  const spec = mediumSpecFor(options);
  const serverAddr = options.framing === 'hdlc' ? hdlcServerAddress(options) : undefined;
  const medium = withRequestGap((deps.createMedium ?? defaultCreateMedium)(spec), options.minRequestGap);
  const trace = deps.trace;
  const tracer = new ChannelTrace(trace);
  try {
    if (options.modeE) {
      tracer.note(`${medium.description}: IEC 62056-21 mode E sign-on`);
      const result = await performModeE(medium, {
        switchDelayMs: options.modeEDelay,
        ...(deps.modeEDelay ? { delay: deps.modeEDelay } : {}),
        ...(deps.modeETimeoutMs !== undefined ? { timeoutMs: deps.modeETimeoutMs } : {}),
        ...(isReframable(medium) ? { maxBaudRate: options.baudRate } : {}),
      });
      const id = result.identification;
      tracer.note(`mode E: meter ${id.manufacturer} ${id.identification}, HDLC at ${result.baudRate} Bd`);
    } else {
      await medium.open();
    }
  } catch (e) {
    await medium.close();
    throw toDlmsError(e);
  }
  const common = { responseTimeout: options.responseTimeout, retries: options.retries, policy: new AnswerPolicy(options), host: options.host, port: options.port, ...(trace ? { trace } : {}) };
  if (serverAddr) {
    const channel = new HdlcRequestChannel(medium, { ...common, ...hdlcSettings(options, deps, spec, serverAddr) });
    await channel.connect();
    return channel;
  }
  return new WrapperRequestChannel(medium, { ...common, clientAddress: options.clientAddress, serverAddress: options.serverAddress, datagrams: options.medium === 'udp' });
}

/** The HDLC link the options ask for: a meter that refused our proposal before is offered the classic parameters. */
function hdlcSettings(options: ChannelPart, deps: TransportDeps, spec: MediumSpec, server: HdlcAddress): Omit<HdlcRequestSettings, keyof RequestChannelSettings> {
  const memory = deps.hdlcMemory ?? hdlcProposalMemory;
  const meterKey = hdlcMeterKey(mediumKeyOf(spec), formatAddress(server), options.clientAddress);
  const proposal = memory.wantsClassic(meterKey)
    ? DEFAULT_PARAMETERS
    : { maxInfoTx: options.hdlcMaxInfo, maxInfoRx: options.hdlcMaxInfo, windowTx: options.hdlcWindow, windowRx: options.hdlcWindow };
  const bound = answerBound(options);
  const serial = options.medium === 'serial';
  return {
    link: new HdlcClientLink({ client: options.clientAddress, server, ...proposal, maxRetries: options.retries, maxApduSize: bound, trace: deps.trace !== undefined }),
    clientAddress: options.clientAddress,
    serverAddress: options.serverAddress,
    physicalAddress: options.physicalAddress,
    server,
    ...(serial ? { serialBaudRate: options.baudRate } : {}),
    answerBound: bound,
    interFrameMs: deps.interFrameTimeoutMs ?? (serial ? serialInterFrameMs(options.baudRate) : 500),
    closeTimeoutMs: deps.closeTimeoutMs ?? options.responseTimeout,
    classicFallback: () => memory.rememberClassic(meterKey),
  };
}

/**
 * The AARE answers before any PDU size is agreed and is an ACSE APDU, which the xDLMS max PDU size does not bind;
 * this much room holds any AARE we ask for (an ECDSA challenge and signature, a ciphered initiate-response).
 */
const ASSOCIATION_ANSWER_ALLOWANCE = 1024;

/** The longest answer a meter may send us: the max receive PDU size we propose (plus room for the AARE). */
function answerBound(options: ChannelPart): number {
  return Math.max(options.maxPduSize, ASSOCIATION_ANSWER_ALLOWANCE);
}

/** The client's judgement over its requests (see the header): deadline and stale answers. */
class AnswerPolicy implements RequestPolicy {
  /** Answers dropped as stale while the current request waited: named in its timeout error. */
  private staleDropped = 0;

  constructor(private readonly options: ChannelPart) {}

  begin(): void {
    this.staleDropped = 0;
  }

  staleReason(answer: Uint8Array, check: StaleCheck | undefined): string | undefined {
    if (!check) return undefined;
    let reason: string | undefined;
    try {
      reason = check(answer);
    } catch {
      return undefined;
    }
    if (reason !== undefined) this.staleDropped++;
    return reason;
  }

  droppedMeanwhile(): string {
    const n = this.staleDropped;
    return n > 0 ? ` (${n} answer${n === 1 ? '' : 's'} to earlier requests dropped meanwhile: see the trace)` : '';
  }

  deadline(what: string, lineMs: number, channel: { description: string; activity(): string }, expire: (error: DlmsError) => void): () => void {
    const { responseTimeout, retries } = this.options;
    const ms = responseTimeout * (retries + 1) + Math.min(responseTimeout, DEADLINE_GRACE_MS) + lineMs;
    const line = lineMs > 0 ? ` and ${lineMs} ms of line time for the request and the longest answer` : '';
    const timer = setTimeout(() => {
      expire(
        new TimeoutError(
          'request-deadline',
          `${channel.description}: ${what} took longer than ${ms} ms (${retries + 1} tries of ${responseTimeout} ms, plus grace${line}) without a complete answer although the meter kept sending (${channel.activity()}); the link was dropped, connect again (or raise the timeout for a slow meter)`,
          { details: { deadlineMs: ms, timeoutMs: responseTimeout, retries, lineMs } },
        ),
      );
    }, ms);
    return () => clearTimeout(timer);
  }
}
