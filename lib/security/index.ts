/** Security layer: primitives, SC byte, APDU protection, HLS, signing, general ciphering, invocation counters. */
export * from './crypto';
export * from './keys';
export * from './security-control';
export * from './tags';
export * from './cipher';
export * from './lgz';
export * from './hls';
export * from './signing';
export * from './general-ciphering';
export * from './counter-store';
export * from './file-counter-store';
export * from './replay-guard';
export * from './der';
export * from './x509';
