/** COSEM application layer helpers: OBIS codes, units, interface-class descriptors and scaling. */
export * from './obis';
export * from './obis-names';
export * from './obis-classes';
export * from './units';
export * from './classes';
export * from './scaling';
