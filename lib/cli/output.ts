/** Output helpers for the CLI: JSON that survives bigints and bytes, and a stderr channel for everything else. */

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** stderr is a terminal (progress bars redraw a line there; elsewhere progress is plain lines). */
  stderrIsTty?: boolean;
}

export const processIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stderrIsTty: process.stderr.isTTY === true,
};

/** JSON.stringify that renders bigint as a decimal string and bytes as upper-case hex. */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v instanceof Uint8Array) return Buffer.from(v).toString('hex').toUpperCase();
      return v;
    },
    indent,
  );
}
