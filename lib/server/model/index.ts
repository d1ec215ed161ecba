/** The simulator's object model: types, the built-in electricity meter and the JSON model-file loader. */
export * from './types';
export * from './base';
export * from './clock';
export * from './energy';
export * from './registers';
export * from './profile';
export * from './objects';
export * from './meter';
export * from './file';
export * from './image-transfer';
