/** Values from the editor: a node property that holds JSON text, or a plain text/number/boolean. */
import { UsageError } from '../../lib/errors';

/** Parses the node's value field by its TypedInput type (json, str, num, bool). */
export function configuredValue(raw: unknown, type: unknown, what: string): unknown {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const text = String(raw);
  switch (type) {
    case 'str':
      return text;
    case 'num': {
      const n = Number(text);
      if (!Number.isFinite(n)) throw new UsageError('bad-value', `${what}: ${JSON.stringify(text)} is not a number`);
      return n;
    }
    case 'bool':
      return text === 'true';
    default:
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new UsageError('bad-value', `${what}: not valid JSON (${text.length > 40 ? `${text.slice(0, 40)}…` : text})`);
      }
  }
}
