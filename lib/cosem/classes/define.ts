/** Small constructors that keep the class tables readable. */
import type { AttributeDescriptor, ClassDescriptor, MethodDescriptor, TypeSchema } from './schema';
import { LOGICAL_NAME } from './schema';

type AttributeExtras = Omit<AttributeDescriptor, 'id' | 'name' | 'type'>;

export function attr(id: number, name: string, type?: TypeSchema, extras: AttributeExtras = {}): AttributeDescriptor {
  return { id, name, ...(type === undefined ? {} : { type }), ...extras };
}

export function method(id: number, name: string, param?: TypeSchema, since?: number): MethodDescriptor {
  return { id, name, ...(param === undefined ? {} : { param }), ...(since === undefined ? {} : { since }) };
}

/** Methods whose parameter is the dummy `integer 0` of the Blue Book. */
export function dummyMethod(id: number, name: string, since?: number): MethodDescriptor {
  return method(id, name, 'integer', since);
}

export function defineClass(
  id: number,
  name: string,
  version: number,
  attributes: AttributeDescriptor[],
  methods: MethodDescriptor[] = [],
  snMethodOffset?: number,
): ClassDescriptor {
  return {
    id,
    name,
    version,
    attributes: [LOGICAL_NAME, ...attributes],
    methods,
    ...(snMethodOffset === undefined ? {} : { snMethodOffset }),
  };
}
