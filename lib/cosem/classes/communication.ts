/** Port, modem and network setup classes, and the M-Bus client. */
import { attr, defineClass, dummyMethod, method } from './define';
import type { ClassDescriptor } from './schema';
import { BAUD_RATES, WINDOW_LIST, WINDOW_LIST_HINT } from './schema';

export const IEC_LOCAL_PORT_SETUP = defineClass(19, 'IEC local port setup', 1, [
  attr(2, 'default_mode', 'enum', { enumNames: { 0: 'iec_62056_21', 1: 'dlms_cosem_mode_e', 2: 'not_applicable' } }),
  attr(3, 'default_baud', 'enum', { enumNames: BAUD_RATES }),
  attr(4, 'prop_baud', 'enum', { enumNames: BAUD_RATES }),
  attr(5, 'response_time', 'enum', { enumNames: { 0: '20 ms', 1: '200 ms' } }),
  attr(6, 'device_addr', 'octet-string', { hint: 'text' }),
  attr(7, 'pass_p1', 'octet-string', { hint: 'text' }),
  attr(8, 'pass_p2', 'octet-string', { hint: 'text' }),
  attr(9, 'pass_w5', 'octet-string', { hint: 'text' }),
]);

export const IEC_HDLC_SETUP = defineClass(23, 'IEC HDLC setup', 1, [
  attr(2, 'comm_speed', 'enum', { enumNames: BAUD_RATES }),
  attr(3, 'window_size_transmit', 'unsigned'),
  attr(4, 'window_size_receive', 'unsigned'),
  attr(5, 'max_info_field_length_transmit', 'long-unsigned'),
  attr(6, 'max_info_field_length_receive', 'long-unsigned'),
  attr(7, 'inter_octet_time_out', 'long-unsigned'),
  attr(8, 'inactivity_time_out', 'long-unsigned'),
  attr(9, 'device_address', 'long-unsigned'),
]);

export const MODEM_CONFIGURATION = defineClass(27, 'Modem configuration', 1, [
  attr(2, 'comm_speed', 'enum', { enumNames: BAUD_RATES }),
  attr(3, 'initialization_string', {
    array: { structure: ['octet-string', 'octet-string', 'long-unsigned'], names: ['request', 'response', 'delay_after_response'] },
  }),
  attr(4, 'modem_profile', { array: 'octet-string' }),
]);

export const AUTO_ANSWER = defineClass(28, 'Auto answer', 2, [
  attr(2, 'mode', 'enum'),
  attr(3, 'listening_window', WINDOW_LIST, { hint: WINDOW_LIST_HINT }),
  attr(4, 'status', 'enum', { enumNames: { 0: 'inactive', 1: 'active', 2: 'locked' } }),
  attr(5, 'number_of_calls', 'unsigned'),
  attr(6, 'number_of_rings', { structure: ['unsigned', 'unsigned'], names: ['nr_rings_in_window', 'nr_rings_out_of_window'] }),
  attr(7, 'list_of_allowed_callers', { array: { structure: ['octet-string', 'enum'], names: ['caller_id', 'call_type'] } }, { since: 2 }),
]);

export const AUTO_CONNECT = defineClass(
  29,
  'Auto connect',
  2,
  [
    attr(2, 'mode', 'enum'),
    attr(3, 'repetitions', 'unsigned'),
    attr(4, 'repetition_delay', 'long-unsigned'),
    attr(5, 'calling_window', WINDOW_LIST, { hint: WINDOW_LIST_HINT }),
    attr(6, 'destination_list', { array: 'octet-string' }, { hint: { array: 'text' } }),
  ],
  [dummyMethod(1, 'connect', 2)],
);

export const TCP_UDP_SETUP = defineClass(41, 'TCP-UDP setup', 0, [
  attr(2, 'tcp_udp_port', 'long-unsigned'),
  attr(3, 'ip_reference', 'octet-string', { hint: 'obis' }),
  attr(4, 'mss', 'long-unsigned'),
  attr(5, 'nb_of_sim_conn', 'unsigned'),
  attr(6, 'inactivity_time_out', 'long-unsigned'),
]);

export const IPV4_SETUP = defineClass(
  42,
  'IPv4 setup',
  0,
  [
    attr(2, 'dl_reference', 'octet-string', { hint: 'obis' }),
    attr(3, 'ip_address', 'double-long-unsigned'),
    attr(4, 'multicast_ip_address', { array: 'double-long-unsigned' }),
    attr(5, 'ip_options', { array: { structure: ['unsigned', 'unsigned', 'octet-string'], names: ['ip_option_type', 'ip_option_length', 'ip_option_data'] } }),
    attr(6, 'subnet_mask', 'double-long-unsigned'),
    attr(7, 'gateway_ip_address', 'double-long-unsigned'),
    attr(8, 'use_dhcp_flag', 'boolean'),
    attr(9, 'primary_dns_address', 'double-long-unsigned'),
    attr(10, 'secondary_dns_address', 'double-long-unsigned'),
  ],
  [
    method(1, 'add_mc_ip_address', 'double-long-unsigned'),
    method(2, 'delete_mc_ip_address', 'double-long-unsigned'),
    dummyMethod(3, 'get_nbof_mc_ip_addresses'),
  ],
  0x60,
);

const QOS_ELEMENT = {
  structure: ['unsigned', 'unsigned', 'unsigned', 'unsigned', 'unsigned'],
  names: ['precedence', 'delay', 'reliability', 'peak_throughput', 'mean_throughput'],
} as const;

export const GPRS_MODEM_SETUP = defineClass(45, 'GPRS modem setup', 0, [
  attr(2, 'apn', 'octet-string', { hint: 'text' }),
  attr(3, 'pin_code', 'long-unsigned'),
  attr(4, 'quality_of_service', { structure: [QOS_ELEMENT, QOS_ELEMENT], names: ['default', 'requested'] }),
]);

export const GSM_DIAGNOSTIC = defineClass(47, 'GSM diagnostic', 2, [
  attr(2, 'operator', 'visible-string'),
  attr(3, 'status', 'enum', {
    enumNames: {
      0: 'not_registered',
      1: 'registered_home_network',
      2: 'not_registered_searching',
      3: 'registration_denied',
      4: 'unknown',
      5: 'registered_roaming',
    },
  }),
  attr(4, 'cs_attachment', 'enum', { enumNames: { 0: 'inactive', 1: 'incoming_call', 2: 'active' } }),
  attr(5, 'ps_status', 'enum', { enumNames: { 0: 'inactive', 1: 'gprs', 2: 'edge', 3: 'umts', 4: 'hsdpa', 5: 'lte', 6: 'cdma' } }),
  // cell_ID is long-unsigned in version 0 and double-long-unsigned later; versions 1+ append mcc, mnc, channel.
  attr(6, 'cell_info', {
    structure: ['any', 'long-unsigned', 'unsigned', 'unsigned', 'long-unsigned', 'long-unsigned', 'double-long-unsigned'],
    names: ['cell_id', 'location_id', 'signal_quality', 'ber', 'mcc', 'mnc', 'channel_number'],
  }),
  attr(7, 'adjacent_cells', { array: { structure: ['any', 'unsigned'], names: ['cell_id', 'signal_quality'] } }),
  attr(8, 'capture_time', 'date-time'),
]);

export const MBUS_CLIENT = defineClass(
  72,
  'M-Bus client',
  1,
  [
    attr(2, 'mbus_port_reference', 'octet-string', { hint: 'obis' }),
    attr(3, 'capture_definition', {
      array: { structure: ['octet-string', 'octet-string'], names: ['data_information_block', 'value_information_block'] },
    }),
    attr(4, 'capture_period', 'double-long-unsigned'),
    attr(5, 'primary_address', 'unsigned'),
    attr(6, 'identification_number', 'double-long-unsigned'),
    attr(7, 'manufacturer_id', 'long-unsigned'),
    attr(8, 'version', 'unsigned'),
    attr(9, 'device_type', 'unsigned'),
    attr(10, 'access_number', 'unsigned'),
    attr(11, 'status', 'unsigned'),
    attr(12, 'alarm', 'unsigned'),
    attr(13, 'configuration', 'long-unsigned', { since: 1 }),
    attr(14, 'encryption_key_status', 'enum', {
      since: 1,
      enumNames: {
        0: 'no_encryption_key',
        1: 'encryption_key_set',
        2: 'encryption_key_transferred',
        3: 'encryption_key_set_and_transferred',
        4: 'encryption_key_in_use',
      },
    }),
  ],
  [
    method(1, 'slave_install', 'unsigned'),
    dummyMethod(2, 'slave_deinstall'),
    dummyMethod(3, 'capture'),
    dummyMethod(4, 'reset_alarm'),
    dummyMethod(5, 'synchronize_clock'),
    method(6, 'data_send', { array: { structure: ['octet-string', 'octet-string', 'any'], names: ['dib', 'vib', 'data'] } }),
    method(7, 'set_encryption_key', 'octet-string'),
    method(8, 'transfer_key', 'octet-string'),
  ],
);

export const COMMUNICATION_CLASSES: readonly ClassDescriptor[] = [
  IEC_LOCAL_PORT_SETUP,
  IEC_HDLC_SETUP,
  MODEM_CONFIGURATION,
  AUTO_ANSWER,
  AUTO_CONNECT,
  TCP_UDP_SETUP,
  IPV4_SETUP,
  GPRS_MODEM_SETUP,
  GSM_DIAGNOSTIC,
  MBUS_CLIENT,
];
