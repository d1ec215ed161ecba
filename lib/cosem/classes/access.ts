/** Association, SAP assignment and security setup: the classes that govern who may see what. */
import type { ValueHint } from '../../axdr/types';
import { attr, defineClass, method } from './define';
import type { ClassDescriptor, TypeSchema } from './schema';

const SN_OBJECT = {
  structure: ['long', 'long-unsigned', 'unsigned', 'octet-string'],
  names: ['base_name', 'class_id', 'version', 'logical_name'],
} as const;

const USER = { structure: ['unsigned', 'visible-string'], names: ['user_id', 'user_name'] } as const;

export const ASSOCIATION_SN = defineClass(
  12,
  'Association SN',
  4,
  [
    attr(2, 'object_list', { array: SN_OBJECT }, { hint: { array: { structure: [undefined, undefined, undefined, 'obis'] } } }),
    attr(3, 'access_rights_list', { array: { structure: ['long', 'any', 'any'], names: ['base_name', 'attribute_access', 'method_access'] } }),
    attr(4, 'security_setup_reference', 'octet-string', { hint: 'obis' }),
    attr(5, 'user_list', { array: USER }, { since: 3 }),
    attr(6, 'current_user', USER, { since: 3 }),
  ],
  // Numbering as Gurux and the SN meters we know use it (protocol.md §i).
  [
    method(1, 'getlist_by_classid', 'any'),
    method(2, 'getobj_by_logicalname', 'octet-string'),
    method(3, 'read_by_logicalname', 'any'),
    method(4, 'get_attributes_and_services', 'any'),
    method(5, 'change_lls_secret', 'octet-string'),
    method(6, 'change_hls_secret', 'octet-string'),
    method(7, 'get_hls_challenge', 'any'),
    method(8, 'reply_to_hls_authentication', 'octet-string'),
  ],
  0x20,
);

export const ATTRIBUTE_ACCESS_MODES = {
  0: 'no_access',
  1: 'read_only',
  2: 'write_only',
  3: 'read_and_write',
  4: 'authenticated_read_only',
  5: 'authenticated_write_only',
  6: 'authenticated_read_and_write',
} as const;

export const METHOD_ACCESS_MODES = { 0: 'no_access', 1: 'access', 2: 'authenticated_access' } as const;

const ACCESS_RIGHTS: TypeSchema = {
  structure: [
    {
      array: {
        structure: ['integer', { enum: ATTRIBUTE_ACCESS_MODES }, 'any'],
        names: ['attribute_id', 'access_mode', 'access_selectors'],
      },
    },
    { array: { structure: ['integer', { enum: METHOD_ACCESS_MODES }], names: ['method_id', 'access_mode'] } },
  ],
  names: ['attribute_access', 'method_access'],
};

const LN_OBJECT: TypeSchema = {
  structure: ['long-unsigned', 'unsigned', 'octet-string', ACCESS_RIGHTS],
  names: ['class_id', 'version', 'logical_name', 'access_rights'],
};
const LN_OBJECT_HINT: ValueHint = { structure: [undefined, undefined, 'obis', undefined] };

export const ASSOCIATION_STATUS = { 0: 'non_associated', 1: 'association_pending', 2: 'associated' } as const;

export const ASSOCIATION_LN = defineClass(
  15,
  'Association LN',
  3,
  [
    attr(2, 'object_list', { array: LN_OBJECT }, { hint: { array: LN_OBJECT_HINT } }),
    attr(3, 'associated_partners_id', { structure: ['integer', 'long-unsigned'], names: ['client_sap', 'server_sap'] }),
    attr(4, 'application_context_name', 'any'),
    attr(5, 'xdlms_context_info', {
      structure: ['bit-string', 'long-unsigned', 'long-unsigned', 'unsigned', 'integer', 'octet-string'],
      names: ['conformance', 'max_receive_pdu_size', 'max_send_pdu_size', 'dlms_version_number', 'quality_of_service', 'cyphering_info'],
    }),
    attr(6, 'authentication_mechanism_name', 'any'),
    attr(7, 'secret', 'octet-string', { hint: 'hex' }),
    attr(8, 'association_status', 'enum', { enumNames: ASSOCIATION_STATUS }),
    attr(9, 'security_setup_reference', 'octet-string', { hint: 'obis', since: 1 }),
    attr(10, 'user_list', { array: USER }, { since: 2 }),
    attr(11, 'current_user', USER, { since: 2 }),
  ],
  [
    method(1, 'reply_to_hls_authentication', 'octet-string'),
    method(2, 'change_hls_secret', 'octet-string'),
    method(3, 'add_object', LN_OBJECT),
    method(4, 'remove_object', LN_OBJECT),
    method(5, 'add_user', USER, 2),
    method(6, 'remove_user', USER, 2),
  ],
  0x60,
);

const SAP_ENTRY = { structure: ['long-unsigned', 'octet-string'], names: ['sap', 'logical_device_name'] } as const;

export const SAP_ASSIGNMENT = defineClass(
  17,
  'SAP assignment',
  0,
  [attr(2, 'sap_assignment_list', { array: SAP_ENTRY }, { hint: { array: { structure: [undefined, 'text'] } } })],
  [method(1, 'connect_logical_device', SAP_ENTRY)],
);

/** Version 0 security_policy values; version 1 makes the same attribute a bit field (SECURITY_POLICY_BITS). */
export const SECURITY_POLICIES_V0 = {
  0: 'nothing',
  1: 'all_messages_authenticated',
  2: 'all_messages_encrypted',
  3: 'all_messages_authenticated_and_encrypted',
} as const;

export const SECURITY_POLICY_BITS = {
  2: 'authenticated_request',
  3: 'encrypted_request',
  4: 'digitally_signed_request',
  5: 'authenticated_response',
  6: 'encrypted_response',
  7: 'digitally_signed_response',
} as const;

export const SECURITY_SUITES = {
  0: 'AES-GCM-128',
  1: 'ECDH-ECDSA-AES-GCM-128-SHA-256',
  2: 'ECDH-ECDSA-AES-GCM-256-SHA-384',
} as const;

export const KEY_IDS = {
  0: 'global_unicast_encryption_key',
  1: 'global_broadcast_encryption_key',
  2: 'authentication_key',
  3: 'master_key',
} as const;

const CERTIFICATE_INFO: TypeSchema = {
  structure: [
    { enum: { 0: 'server', 1: 'client', 2: 'certification_authority', 3: 'other' } },
    { enum: { 0: 'digital_signature', 1: 'key_agreement', 2: 'tls' } },
    'octet-string',
    'octet-string',
    'octet-string',
    'octet-string',
  ],
  names: ['certificate_entity', 'certificate_type', 'serial_number', 'issuer', 'subject', 'subject_alt_name'],
};

export const SECURITY_SETUP = defineClass(
  64,
  'Security setup',
  1,
  [
    attr(2, 'security_policy', 'enum', { bitNames: SECURITY_POLICY_BITS }),
    attr(3, 'security_suite', 'enum', { enumNames: SECURITY_SUITES }),
    attr(4, 'client_system_title', 'octet-string', { hint: 'hex' }),
    attr(5, 'server_system_title', 'octet-string', { hint: 'hex' }),
    attr(6, 'certificates', { array: CERTIFICATE_INFO }, { since: 1 }),
  ],
  [
    method(1, 'security_activate', 'enum'),
    method(2, 'key_transfer', { array: { structure: [{ enum: KEY_IDS }, 'octet-string'], names: ['key_id', 'key_wrapped'] } }),
    method(3, 'key_agreement', { array: { structure: ['enum', 'octet-string'], names: ['key_id', 'key_data'] } }, 1),
    method(4, 'generate_key_pair', 'enum', 1),
    method(5, 'generate_certificate_request', 'enum', 1),
    method(6, 'import_certificate', 'octet-string', 1),
    method(7, 'export_certificate', 'any', 1),
    method(8, 'remove_certificate', 'any', 1),
  ],
  0x30,
);

export const ACCESS_CLASSES: readonly ClassDescriptor[] = [ASSOCIATION_SN, ASSOCIATION_LN, SAP_ASSIGNMENT, SECURITY_SETUP];
