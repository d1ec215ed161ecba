/**
 * Drives the IEC 62056-21 mode E sign-on over a medium: 300 Bd 7E1, `/?!`, identification, ACK, a pause for the
 * meter to switch, then the meter's baud rate at 8N1 ready for HDLC. Over a serial-to-TCP converter the same bytes
 * flow, but the converter owns the baud rate, so there is no switch (the medium has no reopen()).
 */
import { MediaError, TimeoutError, toDlmsError } from '../errors';
import { IdentificationParser, ackMessage, assertModeE, signOnRequest, type ModeEIdentification } from '../link/mode-e';
import { isReframable, type Medium, type SerialFraming } from './types';

export interface ModeEOptions {
  /** Meter address for `/?ADDRESS!` on a shared bus. */
  deviceAddress?: string;
  /** Pause after the ACK before switching baud rate (200 ms; USB adapters may need 250). */
  switchDelayMs?: number;
  /** How long to wait for the identification (5000 ms; at 300 Bd a 25-character line alone takes ~0.8 s). */
  timeoutMs?: number;
  /** Refuse meters that send no enhanced identification "\2" (false: Gurux's simulator and older meters omit it). */
  requireEnhancedId?: boolean;
  /** Cap the baud rate we accept (a meter's optical head or our adapter may not manage 19200). */
  maxBaudRate?: number;
  /** Injectable pause, for tests. */
  delay?: (ms: number) => Promise<void>;
}

export interface ModeEResult {
  identification: ModeEIdentification;
  /** The rate the link runs at after the switch. */
  baudRate: number;
}

/** IEC 62056-21 opening framing. */
export const MODE_E_SIGN_ON_FRAMING: SerialFraming = { baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Baud characters in rising order, to pick the highest rate not above a cap. */
const BAUD_CHARS: ReadonlyArray<[string, number]> = [
  ['0', 300],
  ['1', 600],
  ['2', 1200],
  ['3', 2400],
  ['4', 4800],
  ['5', 9600],
  ['6', 19200],
];

function chooseBaud(id: ModeEIdentification, max: number | undefined): [string, number] {
  if (max === undefined || id.baudRate <= max) return [id.baudChar, id.baudRate];
  let best: [string, number] = ['0', 300];
  for (const entry of BAUD_CHARS) if (entry[1] <= max) best = entry;
  return best;
}

export async function performModeE(medium: Medium, options: ModeEOptions = {}): Promise<ModeEResult> {
  const delay = options.delay ?? sleep;
  const timeoutMs = options.timeoutMs ?? 5000;
  const switchDelayMs = options.switchDelayMs ?? 200;

  if (isReframable(medium)) await medium.reopen(MODE_E_SIGN_ON_FRAMING);
  else await medium.open();

  const parser = new IdentificationParser();
  let onData: ((b: Uint8Array) => void) | undefined;
  let onClose: ((reason: MediaError | undefined) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const identPromise = new Promise<ModeEIdentification>((resolve, reject) => {
      onData = (b) => {
        try {
          const id = parser.push(b);
          if (id) resolve(id);
        } catch (e) {
          reject(toDlmsError(e));
        }
      };
      onClose = (reason) => reject(reason ?? new MediaError('connection-closed', `${medium.description}: closed during the mode E sign-on`));
      timer = setTimeout(
        () => reject(new TimeoutError('mode-e-timeout', `${medium.description}: no IEC 62056-21 identification within ${timeoutMs} ms after the sign-on request (check the optical head position, the cable and that the port supports 300 Bd 7E1)`)),
        timeoutMs,
      );
      medium.on('data', onData);
      medium.on('close', onClose);
    });
    // A failed write must not leave the identification promise rejected and unobserved.
    identPromise.catch(() => undefined);
    await medium.write(signOnRequest(options.deviceAddress));
    const identification = await identPromise;
    clearTimeout(timer);
    assertModeE(identification, options.requireEnhancedId);

    const [baudChar, baudRate] = chooseBaud(identification, options.maxBaudRate);
    await medium.write(ackMessage(baudChar));
    // Anything arriving now (an echo of the ACK, the meter's own confirmation) is part of the sign-on, not HDLC:
    // the data listener stays attached until the switch so those bytes are swallowed.
    await delay(switchDelayMs);
    if (isReframable(medium)) await medium.reopen({ baudRate, dataBits: 8, parity: 'none', stopBits: 1 });
    return { identification, baudRate };
  } finally {
    clearTimeout(timer);
    if (onData) medium.off('data', onData);
    if (onClose) medium.off('close', onClose);
  }
}
