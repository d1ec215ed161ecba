/** A-XDR Data: the typed value model, the byte codec, COSEM date/time helpers and the JSON views. */
export * from './types';
export { decodeData, decodeDataBytes, encodeData, encodeDataBytes, MAX_DEPTH, type DecodeOptions } from './codec';
export {
  dataTypeName,
  isDataTypeName,
  descriptionOf,
  descriptionProblem,
  minElementBytes,
  elementValueCount,
  MAX_VALUES_PER_BYTE,
} from './description';
export * from './datetime';
export {
  dataToTyped,
  dataFromTyped,
  descriptionFromJson,
  toPlain,
  dateTimePlain,
  datePlain,
  timePlain,
  obisText,
  bitsToString,
  type TypedJson,
  type PlainValue,
} from './json';
export { latin1Decode, latin1Encode, utf8Decode, utf8Encode } from './text';
