/** Value-holding and time-related classes: data, registers, profiles, clock, scripts, schedules, calendars. */
import type { ValueHint } from '../../axdr/types';
import { attr, defineClass, dummyMethod, method } from './define';
import type { ClassDescriptor } from './schema';
import { CAPTURE_OBJECT, CAPTURE_OBJECT_HINT, SCALER_UNIT, SCRIPT_REF, SCRIPT_REF_HINT } from './schema';

export const DATA = defineClass(1, 'Data', 0, [attr(2, 'value', 'any')]);

export const REGISTER = defineClass(3, 'Register', 0, [attr(2, 'value', 'any'), attr(3, 'scaler_unit', SCALER_UNIT)], [dummyMethod(1, 'reset')], 0x28);

export const EXTENDED_REGISTER = defineClass(
  4,
  'Extended register',
  0,
  [
    attr(2, 'value', 'any'),
    attr(3, 'scaler_unit', SCALER_UNIT),
    attr(4, 'status', 'any'),
    attr(5, 'capture_time', 'octet-string', { hint: 'date-time' }),
  ],
  [dummyMethod(1, 'reset')],
  0x38,
);

export const DEMAND_REGISTER = defineClass(
  5,
  'Demand register',
  0,
  [
    attr(2, 'current_average_value', 'any'),
    attr(3, 'last_average_value', 'any'),
    attr(4, 'scaler_unit', SCALER_UNIT),
    attr(5, 'status', 'any'),
    attr(6, 'capture_time', 'octet-string', { hint: 'date-time' }),
    attr(7, 'start_time_current', 'octet-string', { hint: 'date-time' }),
    attr(8, 'period', 'double-long-unsigned'),
    attr(9, 'number_of_periods', 'long-unsigned'),
  ],
  [dummyMethod(1, 'reset'), dummyMethod(2, 'next_period')],
  0x48,
);

const REGISTER_ASSIGNMENT = { structure: ['long-unsigned', 'octet-string'], names: ['class_id', 'logical_name'] } as const;
const MASK = { structure: ['octet-string', { array: 'unsigned' }], names: ['mask_name', 'index_list'] } as const;

export const REGISTER_ACTIVATION = defineClass(
  6,
  'Register activation',
  0,
  [
    attr(2, 'register_assignment', { array: REGISTER_ASSIGNMENT }, { hint: { array: { structure: [undefined, 'obis'] } } }),
    attr(3, 'mask_list', { array: MASK }),
    attr(4, 'active_mask', 'octet-string'),
  ],
  [method(1, 'add_register', REGISTER_ASSIGNMENT), method(2, 'add_mask', MASK), method(3, 'delete_mask', 'octet-string')],
  0x30,
);

export const SORT_METHODS = {
  1: 'fifo',
  2: 'lifo',
  3: 'largest',
  4: 'smallest',
  5: 'nearest_to_zero',
  6: 'farest_from_zero',
} as const;

export const PROFILE_GENERIC = defineClass(
  7,
  'Profile generic',
  1,
  [
    attr(2, 'buffer', { array: 'any' }),
    attr(3, 'capture_objects', { array: CAPTURE_OBJECT }, { hint: { array: CAPTURE_OBJECT_HINT } }),
    attr(4, 'capture_period', 'double-long-unsigned'),
    attr(5, 'sort_method', 'enum', { enumNames: SORT_METHODS }),
    attr(6, 'sort_object', CAPTURE_OBJECT, { hint: CAPTURE_OBJECT_HINT }),
    attr(7, 'entries_in_use', 'double-long-unsigned'),
    attr(8, 'profile_entries', 'double-long-unsigned'),
  ],
  [dummyMethod(1, 'reset'), dummyMethod(2, 'capture')],
  0x58,
);

export const CLOCK_STATUS_BITS = {
  0: 'invalid_value',
  1: 'doubtful_value',
  2: 'different_clock_base',
  3: 'invalid_clock_status',
  7: 'daylight_saving_active',
} as const;

export const CLOCK_BASES = {
  0: 'not_defined',
  1: 'internal_crystal',
  2: 'mains_frequency_50_hz',
  3: 'mains_frequency_60_hz',
  4: 'gps',
  5: 'radio_controlled',
} as const;

export const CLOCK = defineClass(
  8,
  'Clock',
  0,
  [
    attr(2, 'time', 'octet-string', { hint: 'date-time' }),
    attr(3, 'time_zone', 'long'),
    attr(4, 'status', 'unsigned', { bitNames: CLOCK_STATUS_BITS }),
    attr(5, 'daylight_savings_begin', 'octet-string', { hint: 'date-time' }),
    attr(6, 'daylight_savings_end', 'octet-string', { hint: 'date-time' }),
    attr(7, 'daylight_savings_deviation', 'integer'),
    attr(8, 'daylight_savings_enabled', 'boolean'),
    attr(9, 'clock_base', 'enum', { enumNames: CLOCK_BASES }),
  ],
  [
    dummyMethod(1, 'adjust_to_quarter'),
    dummyMethod(2, 'adjust_to_measuring_period'),
    dummyMethod(3, 'adjust_to_minute'),
    dummyMethod(4, 'adjust_to_preset_time'),
    method(5, 'preset_adjusting_time', {
      structure: ['octet-string', 'octet-string', 'octet-string'],
      names: ['preset_time', 'validity_interval_start', 'validity_interval_end'],
    }),
    method(6, 'shift_time', 'long'),
  ],
  0x60,
);

const SCRIPT_ACTION = {
  structure: [{ enum: { 1: 'write_attribute', 2: 'execute_method' } }, 'long-unsigned', 'octet-string', 'integer', 'any'],
  names: ['service_id', 'class_id', 'logical_name', 'index', 'parameter'],
} as const;

export const SCRIPT_TABLE = defineClass(
  9,
  'Script table',
  0,
  [
    attr(
      2,
      'scripts',
      { array: { structure: ['long-unsigned', { array: SCRIPT_ACTION }], names: ['script_identifier', 'actions'] } },
      { hint: { array: { structure: [undefined, { array: { structure: [undefined, undefined, 'obis', undefined, undefined] } }] } } },
    ),
  ],
  [method(1, 'execute', 'long-unsigned')],
  0x20,
);

const SCHEDULE_ENTRY = {
  structure: [
    'long-unsigned',
    'boolean',
    'octet-string',
    'long-unsigned',
    'octet-string',
    'long-unsigned',
    'bit-string',
    'bit-string',
    'octet-string',
    'octet-string',
  ],
  names: [
    'index',
    'enable',
    'script_logical_name',
    'script_selector',
    'switch_time',
    'validity_window',
    'exec_weekdays',
    'exec_specdays',
    'begin_date',
    'end_date',
  ],
} as const;

export const SCHEDULE = defineClass(
  10,
  'Schedule',
  0,
  [
    attr(2, 'entries', { array: SCHEDULE_ENTRY }, {
      hint: { array: { structure: [undefined, undefined, 'obis', undefined, 'time', undefined, undefined, undefined, 'date', 'date'] } },
    }),
  ],
  [method(1, 'enable_disable', 'any'), method(2, 'insert', SCHEDULE_ENTRY), method(3, 'delete', 'any')],
);

const SPECIAL_DAY = { structure: ['long-unsigned', 'octet-string', 'unsigned'], names: ['index', 'specialday_date', 'day_id'] } as const;

export const SPECIAL_DAYS_TABLE = defineClass(
  11,
  'Special days table',
  0,
  [attr(2, 'entries', { array: SPECIAL_DAY }, { hint: { array: { structure: [undefined, 'date', undefined] } } })],
  [method(1, 'insert', SPECIAL_DAY), method(2, 'delete', 'long-unsigned')],
  0x10,
);

const SEASON = { structure: ['octet-string', 'octet-string', 'octet-string'], names: ['season_profile_name', 'season_start', 'week_name'] } as const;
const WEEK = {
  structure: ['octet-string', 'unsigned', 'unsigned', 'unsigned', 'unsigned', 'unsigned', 'unsigned', 'unsigned'],
  names: ['week_profile_name', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'],
} as const;
const DAY = {
  structure: [
    'unsigned',
    { array: { structure: ['octet-string', 'octet-string', 'long-unsigned'], names: ['start_time', 'script_logical_name', 'script_selector'] } },
  ],
  names: ['day_id', 'day_schedule'],
} as const;
const SEASON_HINT: ValueHint = { array: { structure: [undefined, 'date-time', undefined] } };
const DAY_HINT: ValueHint = { array: { structure: [undefined, { array: { structure: ['time', 'obis', undefined] } }] } };

export const ACTIVITY_CALENDAR = defineClass(
  20,
  'Activity calendar',
  0,
  [
    attr(2, 'calendar_name_active', 'octet-string'),
    attr(3, 'season_profile_active', { array: SEASON }, { hint: SEASON_HINT }),
    attr(4, 'week_profile_table_active', { array: WEEK }),
    attr(5, 'day_profile_table_active', { array: DAY }, { hint: DAY_HINT }),
    attr(6, 'calendar_name_passive', 'octet-string'),
    attr(7, 'season_profile_passive', { array: SEASON }, { hint: SEASON_HINT }),
    attr(8, 'week_profile_table_passive', { array: WEEK }),
    attr(9, 'day_profile_table_passive', { array: DAY }, { hint: DAY_HINT }),
    attr(10, 'activate_passive_calendar_time', 'octet-string', { hint: 'date-time' }),
  ],
  [dummyMethod(1, 'activate_passive_calendar')],
  0x50,
);

export const SINGLE_ACTION_TYPES = {
  1: 'size 1, wildcard in date allowed',
  2: 'size n, same time values, wildcard in date allowed',
  3: 'size n, same time values, wildcard in date not allowed',
  4: 'size n, different time values, wildcard in date not allowed',
  5: 'size n, different time values, wildcard in date allowed',
} as const;

export const SINGLE_ACTION_SCHEDULE = defineClass(22, 'Single action schedule', 0, [
  attr(2, 'executed_script', SCRIPT_REF, { hint: SCRIPT_REF_HINT }),
  attr(3, 'type', 'enum', { enumNames: SINGLE_ACTION_TYPES }),
  attr(
    4,
    'execution_time',
    { array: { structure: ['octet-string', 'octet-string'], names: ['time', 'date'] } },
    { hint: { array: { structure: ['time', 'date'] } } },
  ),
]);

export const UTILITY_TABLES = defineClass(26, 'Utility tables', 0, [
  attr(2, 'table_id', 'long-unsigned'),
  attr(3, 'length', 'double-long-unsigned'),
  attr(4, 'buffer', 'octet-string', { hint: 'hex' }),
]);

export const REGISTER_TABLE = defineClass(
  61,
  'Register table',
  0,
  [
    attr(2, 'table_cell_values', { array: 'any' }),
    attr(
      3,
      'table_cell_definition',
      { structure: ['long-unsigned', 'octet-string', { array: 'unsigned' }, 'integer'], names: ['class_id', 'logical_name', 'group_E_values', 'attribute_index'] },
      { hint: { structure: [undefined, 'obis', undefined, undefined] } },
    ),
    attr(4, 'scaler_unit', SCALER_UNIT),
  ],
  [dummyMethod(1, 'reset'), dummyMethod(2, 'capture')],
  0x28,
);

export const COMPACT_DATA = defineClass(
  62,
  'Compact data',
  1,
  [
    attr(2, 'compact_buffer', 'octet-string', { hint: 'hex' }),
    attr(3, 'capture_objects', { array: CAPTURE_OBJECT }, { hint: { array: CAPTURE_OBJECT_HINT } }),
    attr(4, 'template_id', 'unsigned'),
    attr(5, 'template_description', 'octet-string', { hint: 'hex' }),
    attr(6, 'capture_method', 'enum', { enumNames: { 0: 'invoked_by_capture_method', 1: 'implicit_on_read' }, since: 1 }),
  ],
  [dummyMethod(1, 'reset'), dummyMethod(2, 'capture')],
);

export const DATA_CLASSES: readonly ClassDescriptor[] = [
  DATA,
  REGISTER,
  EXTENDED_REGISTER,
  DEMAND_REGISTER,
  REGISTER_ACTIVATION,
  PROFILE_GENERIC,
  CLOCK,
  SCRIPT_TABLE,
  SCHEDULE,
  SPECIAL_DAYS_TABLE,
  ACTIVITY_CALENDAR,
  SINGLE_ACTION_SCHEDULE,
  UTILITY_TABLES,
  REGISTER_TABLE,
  COMPACT_DATA,
];
