/**
 * The DlmsError family. Every failure the stack reports is one of these, with a stable kebab-case `code`
 * and a message a person can act on: what was asked, what the peer said (decoded names), what to check.
 */

/**
 * What a person can change to fix a failure, as a key and the options involved rather than words: the CLI names
 * its flags (--hls2), Node-RED the dialog's fields (HLS algorithm, Security tab). Each front-end words the key.
 */
export interface ErrorHint {
  /** Stable kebab-case key, e.g. 'hls2-lgz', 'http-on-port', 'framing-mismatch'. */
  key: string;
  /** The option-schema names (lib/client/options.ts) to check. */
  options: string[];
  /** Facts the wording may use (addresses, ports, the value to try); never secrets. */
  values?: Record<string, string | number>;
}

export interface DlmsErrorOptions {
  cause?: unknown;
  /** Structured facts for programs (offsets, decoded names, expected values); never secrets. */
  details?: Record<string, unknown>;
  hint?: ErrorHint;
}

export class DlmsError extends Error {
  readonly code: string;
  readonly details?: Record<string, unknown>;
  /** What to change, for the front-end to word (the message itself names no CLI flag or dialog field). */
  readonly hint?: ErrorHint;

  constructor(code: string, message: string, options: DlmsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    if (options.details) this.details = options.details;
    if (options.hint) this.hint = options.hint;
  }

  toJSON(): { code: string; message: string; details?: Record<string, unknown>; hint?: ErrorHint } {
    return {
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
      ...(this.hint ? { hint: this.hint } : {}),
    };
  }
}

/** Malformed, truncated or hostile bytes: names what was being decoded and where. */
export class DecodeError extends DlmsError {}

/** A value that cannot be encoded (out of range, wrong type for the field). */
export class EncodeError extends DlmsError {}

/** Framing and link-layer failures: HDLC, wrapper, mode E, M-Bus. */
export class LinkError extends DlmsError {}

/** Socket / serial port failures. */
export class MediaError extends DlmsError {}

/** The association could not be established or was lost. */
export class AssociationError extends DlmsError {}

/** The peer failed to authenticate, or refused our authentication. */
export class AuthenticationError extends AssociationError {}

/** Ciphering, signing and invocation-counter failures. */
export class SecurityError extends DlmsError {}

/** A service (get/set/action/read/write) answered with an error result. */
export class ServiceError extends DlmsError {}

/** The peer did not answer in time. */
export class TimeoutError extends DlmsError {}

/** Invalid options or command-line usage. */
export class UsageError extends DlmsError {}

export function isDlmsError(e: unknown): e is DlmsError {
  return e instanceof DlmsError;
}

/** Wraps anything thrown into a DlmsError so callers never see a bare Error. */
export function toDlmsError(e: unknown, code = 'internal-error'): DlmsError {
  if (e instanceof DlmsError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new DlmsError(code, message, { cause: e });
}
