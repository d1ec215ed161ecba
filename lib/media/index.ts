/** Media: the only place that touches sockets and serial ports. */
import { SerialMedium, type SerialOptions } from './serial';
import { TcpMedium, type TcpOptions } from './tcp';
import type { Medium } from './types';
import { UdpMedium, type UdpOptions } from './udp';

export * from './types';
export * from './tcp';
export * from './udp';
export * from './serial';
export * from './listener';
export * from './mode-e-session';
export * from './paced';

export type MediumSpec = ({ kind: 'tcp' } & TcpOptions) | ({ kind: 'udp' } & UdpOptions) | ({ kind: 'serial' } & SerialOptions);

/** A closed medium for the spec; open() connects. Serial does not load serialport until open(). */
export function createMedium(spec: MediumSpec): Medium {
  switch (spec.kind) {
    case 'tcp':
      return new TcpMedium(spec);
    case 'udp':
      return new UdpMedium(spec);
    case 'serial':
      return new SerialMedium(spec);
  }
}
