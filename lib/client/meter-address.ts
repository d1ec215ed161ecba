/**
 * Which meter one request goes to when a host (Node-RED's msg.meter) addresses many meters through one configuration:
 * the fields that may override the configuration's link and addresses, and the per-meter secrets of a key table.
 * Errors name the field and what was expected; they never quote a secret's text.
 */
import { UsageError } from '../errors';
import { specFor, type MeterOptions } from './options';

/** A meter addressed by a request: its operator's name and where it is, over the configuration's own values. */
export interface MeterAddress {
  id?: string;
  host?: string;
  port?: number;
  serialPath?: string;
  physicalAddress?: number;
  serverAddress?: number;
  clientAddress?: number;
}

const TEXT_FIELDS = ['id', 'host', 'serialPath'] as const;
const NUMBER_FIELDS = ['port', 'physicalAddress', 'serverAddress', 'clientAddress'] as const;
export const ADDRESS_FIELDS: readonly string[] = [...TEXT_FIELDS, ...NUMBER_FIELDS];

/** A meter id is a name for topics and logs: printable, no '/' (it becomes a topic level), of bounded length. */
const ID_MAX = 64;

/** Per-meter secrets and the options they set; short names as the CLI flags (ek, ak, kek) or the option names. */
const SECRET_FIELDS: Record<string, keyof MeterOptions> = {
  password: 'password',
  passwordHex: 'passwordHex',
  ek: 'blockCipherKey',
  blockCipherKey: 'blockCipherKey',
  ak: 'authenticationKey',
  authenticationKey: 'authenticationKey',
  kek: 'masterKey',
  masterKey: 'masterKey',
  clientSigningKey: 'clientSigningKey',
  serverSigningKey: 'serverSigningKey',
};

export type MeterSecrets = Partial<Pick<MeterOptions, 'password' | 'passwordHex' | 'blockCipherKey' | 'authenticationKey' | 'masterKey' | 'clientSigningKey' | 'serverSigningKey'>>;

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

function secretValue(where: string, field: string, v: unknown): string {
  const option = SECRET_FIELDS[field]!;
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError('bad-meter', `${where} ${field}: expected a non-empty text, got ${describe(v)}`);
  const spec = specFor(option);
  if (spec?.type === 'hex') {
    const digits = v.replace(/\s+/g, '');
    // The length and kind of fault only: the digits themselves are secret.
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(digits)) throw new UsageError('bad-meter', `${where} ${field}: expected hex digits in pairs`);
    const bytes = digits.length / 2;
    if (spec.byteLengths && !spec.byteLengths.includes(bytes)) throw new UsageError('bad-meter', `${where} ${field}: expected ${spec.byteLengths.join(' or ')} bytes, got ${bytes}`);
    return digits;
  }
  return v;
}

/** The secrets of one key table entry or msg.meter, under their option names. */
function secretsOf(where: string, fields: Record<string, unknown>): MeterSecrets {
  const out: Record<string, string> = {};
  for (const [field, v] of Object.entries(fields)) {
    const option = SECRET_FIELDS[field];
    if (!option) continue;
    if (out[option] !== undefined) throw new UsageError('bad-meter', `${where}: ${option} is given twice`);
    out[option] = secretValue(where, field, v);
  }
  if (out['password'] !== undefined && out['passwordHex'] !== undefined) throw new UsageError('bad-meter', `${where}: give password or passwordHex, not both`);
  return out as MeterSecrets;
}

export interface ParsedMeter {
  address: MeterAddress;
  /** Secrets from the message itself (only where the host accepts them). */
  secrets: MeterSecrets;
}

/**
 * msg.meter checked: an object of the address fields (and, with acceptKeys, the secret fields). Throws UsageError
 * 'bad-meter' naming the first bad field; a secret sent without acceptKeys is 'keys-in-message'.
 */
export function parseMeterAddress(value: unknown, acceptKeys: boolean): ParsedMeter {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError('bad-meter', `msg.meter must be an object such as {"id": "meter-7", "host": "10.0.0.7"}, got ${describe(value)}`);
  const fields = value as Record<string, unknown>;
  const address: Record<string, unknown> = {};
  for (const [field, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if ((TEXT_FIELDS as readonly string[]).includes(field)) {
      if (typeof v !== 'string' || v.trim() === '') throw new UsageError('bad-meter', `msg.meter.${field}: expected a non-empty text, got ${describe(v)}`);
      address[field] = v.trim();
    } else if ((NUMBER_FIELDS as readonly string[]).includes(field)) {
      const spec = specFor(field)!;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < spec.min! || v > spec.max!) throw new UsageError('bad-meter', `msg.meter.${field}: expected a whole number ${spec.min}…${spec.max}, got ${typeof v === 'number' ? String(v) : describe(v)}`);
      address[field] = v;
    } else if (field in SECRET_FIELDS) {
      if (!acceptKeys) throw new UsageError('keys-in-message', `msg.meter.${field}: keys and passwords are not taken from messages; put them in the meter configuration's key table (or turn on "Accept keys in msg.meter")`);
    } else {
      throw new UsageError('bad-meter', `msg.meter.${field} is not a meter field; use ${[...ADDRESS_FIELDS, ...(acceptKeys ? Object.keys(SECRET_FIELDS) : [])].join(', ')}`);
    }
  }
  const id = address['id'];
  if (typeof id === 'string' && (id.length > ID_MAX || id.includes('/') || /[\u0000-\u001f]/.test(id))) throw new UsageError('bad-meter', `msg.meter.id: up to ${ID_MAX} printable characters without "/", got ${id.length} characters`);
  return { address: address as MeterAddress, secrets: acceptKeys ? secretsOf('msg.meter', fields) : {} };
}

/**
 * The key table (JSON text) as secrets per meter id: {"<meter id>": {"password": "…", "ek": "…", "ak": "…"}}.
 * Throws UsageError 'bad-key-table' naming the id and field at fault, never the text around it.
 */
export function parseKeyTable(json: string | undefined): Map<string, MeterSecrets> {
  const table = new Map<string, MeterSecrets>();
  const text = typeof json === 'string' ? json.trim() : '';
  if (text === '') return table;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    // V8's message quotes the text around the fault, i.e. key digits: keep only the position.
    const at = /position (\d+)/.exec((e as Error).message);
    throw new UsageError('bad-key-table', `the key table is not JSON${at ? ` (error at character ${at[1]})` : ''}: expected {"<meter id>": {"password": "…", "ek": "<32 hex digits>", "ak": "<32 hex digits>"}}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('bad-key-table', 'the key table must be an object keyed by meter id');
  for (const [id, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new UsageError('bad-key-table', `key table ${id}: expected an object such as {"password": …} or {"ek": …, "ak": …}`);
    const unknown = Object.keys(entry).find((f) => !(f in SECRET_FIELDS));
    if (unknown !== undefined) throw new UsageError('bad-key-table', `key table ${id}: ${unknown} is not a key field; use ${Object.keys(SECRET_FIELDS).join(', ')}`);
    try {
      table.set(id, secretsOf(`key table ${id}`, entry as Record<string, unknown>));
    } catch (e) {
      throw new UsageError('bad-key-table', (e as Error).message);
    }
  }
  return table;
}

/** The options of one meter: the configuration, its secrets replaced by the meter's own, its address fields over both. */
export function meterOptions(template: Partial<MeterOptions>, address: MeterAddress, secrets: MeterSecrets): Partial<MeterOptions> {
  const out: Partial<MeterOptions> = { ...template };
  // A password of the meter's replaces the configuration's in either form.
  if (secrets.password !== undefined || secrets.passwordHex !== undefined) {
    delete out.password;
    delete out.passwordHex;
  }
  Object.assign(out, secrets);
  const { id: _id, ...where } = address;
  // A serial path addresses a serial meter, a host a network one: the other medium's fields no longer apply.
  if (where.serialPath !== undefined && out.medium !== 'serial') out.medium = 'serial';
  if (where.host !== undefined && out.medium === 'serial') out.medium = 'tcp';
  Object.assign(out, where);
  return out;
}

/** Where a meter is reached, as outputs, status and cursor ids name it: host:port, or the serial path. */
export function meterWhere(resolved: Pick<MeterOptions, 'medium' | 'host' | 'port' | 'serialPath'>): string {
  return resolved.medium === 'serial' ? (resolved.serialPath ?? 'serial') : `${resolved.host}:${resolved.port}`;
}

/** How outputs name the meter: its id, else where it is (host:port, serial path, with the physical address). */
export function meterLabel(address: MeterAddress, resolved: Pick<MeterOptions, 'medium' | 'host' | 'port' | 'serialPath' | 'physicalAddress'>): string {
  if (address.id !== undefined) return address.id;
  const where = meterWhere(resolved);
  return address.physicalAddress !== undefined ? `${where}#${address.physicalAddress}` : where;
}
