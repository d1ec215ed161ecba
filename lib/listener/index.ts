/** Push / event listener: sans-IO notification decoding, per-stream framing, and the IO-owning Listener. */
export * from './decoder';
export * from './push-list';
export * from './stream';
export * from './listener';
