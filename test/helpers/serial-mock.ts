/**
 * The serialport mock binding for tests: a fake port at `path` and a SerialPort class that records every port object
 * the code under test opens (one per open / reopen), so a test can play the meter's side of each.
 */
import type { MockBindingInterface } from '@serialport/binding-mock';
import type { SerialPortMock } from 'serialport';
import type { SerialPortClass } from '../../lib/media/serial';

export interface SerialMock {
  /** Every port object opened since the last reset, in order. */
  readonly ports: SerialPortMock[];
  /** Pass as `SerialPort` to SerialMedium (or a listener's serial source). */
  readonly SerialPort: SerialPortClass;
  readonly binding: MockBindingInterface;
}

/**
 * Registers mocha hooks: `before` loads serialport (skipping the suite when the optional package is absent) and
 * `beforeEach` resets the binding with a fresh port at `path`. The returned object is filled in by those hooks.
 */
export function useSerialMock(path: string): SerialMock {
  let MockPort: typeof SerialPortMock;
  const mock = { ports: [] as SerialPortMock[] } as { ports: SerialPortMock[]; SerialPort: SerialPortClass; binding: MockBindingInterface };

  before(function () {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      MockPort = (require('serialport') as { SerialPortMock: typeof SerialPortMock }).SerialPortMock;
    } catch (e) {
      // serialport is optional: without it only the tests of its absence can run.
      if ((e as { code?: string }).code === 'MODULE_NOT_FOUND') this.skip();
      throw e;
    }
    mock.binding = MockPort.binding;
  });

  beforeEach(() => {
    mock.binding.reset();
    mock.binding.createPort(path, { echo: false, record: true });
    const ports: SerialPortMock[] = [];
    mock.ports = ports;
    class RecordingPort extends MockPort {
      constructor(options: ConstructorParameters<typeof SerialPortMock>[0]) {
        super(options);
        ports.push(this);
      }
    }
    mock.SerialPort = RecordingPort as unknown as SerialPortClass;
  });

  return mock;
}
