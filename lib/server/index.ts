/** The meter simulator: object model, services, association, protection, profiles and the runner. */
export * from './channel';
export * from './transport';
export * from './access';
export * from './model/types';
export * from './model/meter';
export * from './model/image-transfer';
export * from './services';
export * from './protection';
export * from './association';
export * from './profiles';
export * from './simulator';
