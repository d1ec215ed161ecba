/** IEC 62056-46 HDLC: frame codec, scanner, parameters and the client/server link state machines. */
export * from './crc';
export * from './address';
export * from './control';
export * from './frame';
export * from './llc';
export * from './scanner';
export * from './parameters';
export * from './frmr';
export * from './link';
export * from './client-link';
export * from './server-link';
