/** Classes that act: firmware image transfer, monitors, push, disconnector, limiter. */
import { attr, defineClass, dummyMethod, method } from './define';
import type { ClassDescriptor } from './schema';
import {
  CAPTURE_OBJECT,
  CAPTURE_OBJECT_HINT,
  SCRIPT_REF,
  SCRIPT_REF_HINT,
  VALUE_DEFINITION,
  VALUE_DEFINITION_HINT,
  WINDOW_LIST,
  WINDOW_LIST_HINT,
} from './schema';

export const IMAGE_TRANSFER_STATUS = {
  0: 'transfer_not_initiated',
  1: 'transfer_initiated',
  2: 'verification_initiated',
  3: 'verification_successful',
  4: 'verification_failed',
  5: 'activation_initiated',
  6: 'activation_successful',
  7: 'activation_failed',
} as const;

export const IMAGE_TRANSFER = defineClass(
  18,
  'Image transfer',
  0,
  [
    attr(2, 'image_block_size', 'double-long-unsigned'),
    attr(3, 'image_transferred_blocks_status', 'bit-string'),
    attr(4, 'image_first_not_transferred_block_number', 'double-long-unsigned'),
    attr(5, 'image_transfer_enabled', 'boolean'),
    attr(6, 'image_transfer_status', 'enum', { enumNames: IMAGE_TRANSFER_STATUS }),
    attr(
      7,
      'image_to_activate_info',
      {
        array: {
          structure: ['double-long-unsigned', 'octet-string', 'octet-string'],
          names: ['image_to_activate_size', 'image_to_activate_identification', 'image_to_activate_signature'],
        },
      },
      { hint: { array: { structure: [undefined, undefined, 'hex'] } } },
    ),
  ],
  [
    method(1, 'image_transfer_initiate', { structure: ['octet-string', 'double-long-unsigned'], names: ['image_identifier', 'image_size'] }),
    method(2, 'image_block_transfer', { structure: ['double-long-unsigned', 'octet-string'], names: ['image_block_number', 'image_block_value'] }),
    dummyMethod(3, 'image_verify'),
    dummyMethod(4, 'image_activate'),
  ],
  0x40,
);

export const REGISTER_MONITOR = defineClass(21, 'Register monitor', 0, [
  attr(2, 'thresholds', { array: 'any' }),
  attr(3, 'monitored_value', VALUE_DEFINITION, { hint: VALUE_DEFINITION_HINT }),
  attr(
    4,
    'actions',
    { array: { structure: [SCRIPT_REF, SCRIPT_REF], names: ['action_up', 'action_down'] } },
    { hint: { array: { structure: [SCRIPT_REF_HINT, SCRIPT_REF_HINT] } } },
  ),
]);

export const PUSH_TRANSPORT_SERVICES = {
  0: 'TCP',
  1: 'UDP',
  2: 'FTP',
  3: 'SMTP',
  4: 'SMS',
  5: 'HDLC',
  6: 'M-Bus',
  7: 'ZigBee',
} as const;

export const PUSH_MESSAGE_TYPES = { 0: 'A-XDR encoded xDLMS APDU', 1: 'XML encoded xDLMS APDU' } as const;

export const PUSH_SETUP = defineClass(
  40,
  'Push setup',
  2,
  [
    attr(2, 'push_object_list', { array: CAPTURE_OBJECT }, { hint: { array: CAPTURE_OBJECT_HINT } }),
    attr(3, 'send_destination_and_method', {
      structure: [{ enum: PUSH_TRANSPORT_SERVICES }, 'octet-string', { enum: PUSH_MESSAGE_TYPES }],
      names: ['transport_service', 'destination', 'message'],
    }, { hint: { structure: [undefined, 'text', undefined] } }),
    attr(4, 'communication_window', WINDOW_LIST, { hint: WINDOW_LIST_HINT }),
    attr(5, 'randomisation_start_interval', 'long-unsigned'),
    attr(6, 'number_of_retries', 'unsigned'),
    // long-unsigned up to version 1; version 2 makes it {min, exponent, max}.
    attr(7, 'repetition_delay', 'any'),
    attr(8, 'port_reference', 'octet-string', { hint: 'obis', since: 2 }),
    attr(9, 'push_client_sap', 'integer', { since: 2 }),
    attr(10, 'push_protection_parameters', { array: 'any' }, { since: 2 }),
    attr(11, 'push_operation_method', 'enum', { since: 2, enumNames: { 0: 'unconfirmed_failure_retry', 1: 'unconfirmed_missing_retry', 2: 'confirmed' } }),
    attr(12, 'confirmation_parameters', { structure: ['date-time', 'double-long-unsigned'], names: ['confirmation_start_date', 'confirmation_interval'] }, { since: 2 }),
    attr(13, 'last_confirmation_date_time', 'date-time', { since: 2 }),
  ],
  [dummyMethod(1, 'push'), dummyMethod(2, 'reset', 2)],
  0x38,
);

export const DISCONNECT_CONTROL_STATES = { 0: 'disconnected', 1: 'connected', 2: 'ready_for_reconnection' } as const;

export const DISCONNECT_CONTROL_MODES = {
  0: 'mode_0_always_connected',
  1: 'mode_1',
  2: 'mode_2',
  3: 'mode_3',
  4: 'mode_4',
  5: 'mode_5',
  6: 'mode_6',
} as const;

export const DISCONNECT_CONTROL = defineClass(
  70,
  'Disconnect control',
  1,
  [
    attr(2, 'output_state', 'boolean'),
    attr(3, 'control_state', 'enum', { enumNames: DISCONNECT_CONTROL_STATES }),
    attr(4, 'control_mode', 'enum', { enumNames: DISCONNECT_CONTROL_MODES }),
  ],
  [dummyMethod(1, 'remote_disconnect'), dummyMethod(2, 'remote_reconnect')],
  0x20,
);

export const LIMITER = defineClass(71, 'Limiter', 0, [
  attr(2, 'monitored_value', VALUE_DEFINITION, { hint: VALUE_DEFINITION_HINT }),
  attr(3, 'threshold_active', 'any'),
  attr(4, 'threshold_normal', 'any'),
  attr(5, 'threshold_emergency', 'any'),
  attr(6, 'min_over_threshold_duration', 'double-long-unsigned'),
  attr(7, 'min_under_threshold_duration', 'double-long-unsigned'),
  attr(
    8,
    'emergency_profile',
    { structure: ['long-unsigned', 'octet-string', 'double-long-unsigned'], names: ['emergency_profile_id', 'emergency_activation_time', 'emergency_duration'] },
    { hint: { structure: [undefined, 'date-time', undefined] } },
  ),
  attr(9, 'emergency_profile_group_id_list', { array: 'long-unsigned' }),
  attr(10, 'emergency_profile_active', 'boolean'),
  attr(
    11,
    'actions',
    { structure: [SCRIPT_REF, SCRIPT_REF], names: ['action_over_threshold', 'action_under_threshold'] },
    { hint: { structure: [SCRIPT_REF_HINT, SCRIPT_REF_HINT] } },
  ),
]);

export const CONTROL_CLASSES: readonly ClassDescriptor[] = [IMAGE_TRANSFER, REGISTER_MONITOR, PUSH_SETUP, DISCONNECT_CONTROL, LIMITER];
