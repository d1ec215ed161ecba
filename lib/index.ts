/**
 * node-red-contrib-dlms as a library. Each layer is a namespace (they share some names, e.g. key-info types in
 * apdu and security); the error classes and the translator are also exported at the top.
 */
export * from './errors';
export * as axdr from './axdr';
export * as cosem from './cosem';
export * as apdu from './apdu';
export * as security from './security';
export * as hdlc from './link/hdlc';
export * as wrapper from './link/wrapper';
export * as modeE from './link/mode-e';
export * as mbus from './link/mbus';
export { PushStreamDecoder } from './link/push-stream';
export * as media from './media';
export * as options from './client/options';
export * as server from './server';
export { DlmsClient, type ReadResult, type ReadAccess } from './client/client';
export { ConnectLimiter, connectLimiter, setMaxConnectsInFlight, DEFAULT_MAX_CONNECTS_IN_FLIGHT } from './client/connect-limiter';
export { transferImage, clientImagePort, type ImageTransferOptions, type ImageTransferProgress, type ImageTransferResult } from './client/image-transfer';
export { startSimulator, type Simulator, type SimulatorOptions } from './server/simulator';
export { translate, type Translation, type TranslateKeys } from './translate';
export { fromHex, toHex } from './util/hex';
