/**
 * The typed value model of A-XDR `Data`: a type tag plus its value. Every field needed to re-encode the exact bytes
 * is kept (special date-time values, bit counts, compact-array descriptions), so decode→encode is lossless.
 */

/** A-XDR Data CHOICE tags (IEC 62056-5-3 / Green Book). */
export const DataTag = {
  'null-data': 0,
  array: 1,
  structure: 2,
  boolean: 3,
  'bit-string': 4,
  'double-long': 5,
  'double-long-unsigned': 6,
  'octet-string': 9,
  'visible-string': 10,
  'utf8-string': 12,
  bcd: 13,
  integer: 15,
  long: 16,
  unsigned: 17,
  'long-unsigned': 18,
  'compact-array': 19,
  long64: 20,
  'long64-unsigned': 21,
  enum: 22,
  float32: 23,
  float64: 24,
  'date-time': 25,
  date: 26,
  time: 27,
  'delta-integer': 28,
  'delta-long': 29,
  'delta-double-long': 30,
  'delta-unsigned': 31,
  'delta-long-unsigned': 32,
  'delta-double-long-unsigned': 33,
  'dont-care': 255,
} as const;

export type DataTypeName = keyof typeof DataTag;

/** Integer types whose value fits a JS number exactly. */
export type SmallIntType =
  | 'double-long'
  | 'double-long-unsigned'
  | 'bcd'
  | 'integer'
  | 'long'
  | 'unsigned'
  | 'long-unsigned'
  | 'enum'
  | 'delta-integer'
  | 'delta-long'
  | 'delta-double-long'
  | 'delta-unsigned'
  | 'delta-long-unsigned'
  | 'delta-double-long-unsigned';

/**
 * COSEM date/time fields. Special values are kept as they are on the wire: 0xFFFF year, 0xFF for "not specified"
 * in the byte fields, 0xFD/0xFE month (DST end/begin) and day (second-last/last day of month), deviation -32768
 * (0x8000, not specified), status 0xFF.
 */
export interface CosemDate {
  year: number;
  month: number;
  day: number;
  dayOfWeek: number;
}

export interface CosemTime {
  hour: number;
  minute: number;
  second: number;
  hundredths: number;
}

export interface CosemDateTime extends CosemDate, CosemTime {
  /** Minutes of local time to UTC (UTC = local + deviation); -32768 = not specified. */
  deviation: number;
  /** Clock status bits; 0xFF = not specified. */
  status: number;
}

/** A bit-string: `length` bits, the first bit is the most significant bit of bytes[0]. */
export interface BitString {
  length: number;
  bytes: Uint8Array;
}

/** Type description used by compact-array (same tags as Data, without values). */
export type TypeDescription =
  | { type: 'array'; count: number; element: TypeDescription }
  | { type: 'structure'; elements: TypeDescription[] }
  | { type: Exclude<DataTypeName, 'array' | 'structure'> };

export type DataValue =
  | { type: 'null-data' }
  | { type: 'dont-care' }
  | { type: 'array'; value: DataValue[] }
  | { type: 'structure'; value: DataValue[] }
  | { type: 'boolean'; value: boolean }
  | { type: 'bit-string'; value: BitString }
  | { type: SmallIntType; value: number }
  | { type: 'long64' | 'long64-unsigned'; value: bigint }
  | {
      type: 'float32' | 'float64';
      value: number;
      /**
       * The exact wire bytes of a NaN (4 or 8). A JS number cannot carry every NaN payload (signalling NaNs get
       * quietened), so the decoder keeps them here and the encoder sends them back while `value` is still NaN.
       */
      nanBits?: Uint8Array;
    }
  | { type: 'octet-string'; value: Uint8Array }
  /**
   * visible-string holds one char per byte (latin1). utf8-string bytes that are not well-formed UTF-8 appear as
   * lone surrogates U+DC80..U+DCFF, one per byte ("surrogate escape"), so any byte sequence round-trips.
   */
  | { type: 'visible-string' | 'utf8-string'; value: string }
  | { type: 'date-time'; value: CosemDateTime }
  | { type: 'date'; value: CosemDate }
  | { type: 'time'; value: CosemTime }
  | { type: 'compact-array'; description: TypeDescription; value: DataValue[] };

/** Narrow a DataValue by its type tag. */
export type DataOf<T extends DataTypeName> = Extract<DataValue, { type: T }>;

/**
 * How to show a value in the plain JSON view when the class descriptor knows more than the A-XDR type says:
 * 'obis' renders a 6-byte octet-string as a logical name (only where the descriptor says it is one),
 * 'date-time' / 'date' / 'time' read an octet-string of 12 / 5 / 4 bytes as COSEM date/time, 'text' / 'hex' force
 * an octet-string's rendering. Structures and arrays carry hints for their elements.
 */
export type ValueHint =
  | 'obis'
  | 'date-time'
  | 'date'
  | 'time'
  | 'text'
  | 'hex'
  | { structure: (ValueHint | undefined)[] }
  | { array: ValueHint };
