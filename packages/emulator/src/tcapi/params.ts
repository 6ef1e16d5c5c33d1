// Parameter validation by name and type, the way the API gateway does it before an action runs:
// MissingParameter for an absent required field, UnknownParameter for a field the action does not
// define, InvalidParameter for a value of the wrong type. Value ranges are checked by each action
// (InvalidParameterValue). Form-encoded requests (v1 signing, TC3 GET) arrive flattened as
// `Tags.0.TagKey=env` with every value a string; they are unflattened and coerced here so both
// encodings reach the actions as the same typed object.

import { ApiError } from './envelope.js';

/**
 * A field spec: `String`, `Integer`, `Boolean`, a struct name from STRUCTS, or any of these with `[]`;
 * a trailing `!` marks the field required.
 */
export type FieldSpec = string;
export type Schema = Readonly<Record<string, FieldSpec>>;

export const STRUCTS: Readonly<Record<string, Schema>> = {
  Tag: { TagKey: 'String!', TagValue: 'String!' },
  Filter: { Name: 'String', Values: 'String[]' },
  TopicRecord: { EnvironmentId: 'String!', TopicName: 'String!' },
  SubscriptionTopic: { EnvironmentId: 'String!', TopicName: 'String!', SubscriptionName: 'String!' },
  FilterSubscription: {
    ConsumerHasCount: 'Boolean',
    ConsumerHasBacklog: 'Boolean',
    ConsumerHasExpired: 'Boolean',
    SubscriptionNames: 'String[]',
  },
  RetentionPolicy: { TimeInMinutes: 'Integer!', SizeInMB: 'Integer!' },
};

export type Params = Record<string, unknown>;

function missing(path: string): ApiError {
  return new ApiError('MissingParameter', `The request is missing a required parameter \`${path}\`.`);
}

function badType(path: string, type: string): ApiError {
  return new ApiError(
    'InvalidParameter',
    `The value type of parameter \`${path}\` is not valid, expected ${type}.`,
  );
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function coerceScalar(type: string, value: unknown, path: string, fromForm: boolean): unknown {
  switch (type) {
    case 'String':
      if (typeof value === 'string') return value;
      throw badType(path, 'String');
    case 'Integer':
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      if (fromForm && typeof value === 'string' && /^-?\d{1,19}$/.test(value)) return Number(value);
      throw badType(path, 'Integer');
    case 'Boolean':
      if (typeof value === 'boolean') return value;
      if (fromForm && (value === 'true' || value === 'false')) return value === 'true';
      throw badType(path, 'Boolean');
    default: {
      const schema = STRUCTS[type];
      if (!schema) throw new Error(`unknown type ${type}`);
      if (!isPlainObject(value)) throw badType(path, type);
      return validateObject(schema, value, `${path}.`, fromForm);
    }
  }
}

/** Form arrays arrive as objects keyed 0..n-1; JSON arrays arrive as arrays. */
function asArray(value: unknown, path: string, type: string, fromForm: boolean): unknown[] {
  if (Array.isArray(value)) return value;
  if (fromForm && isPlainObject(value)) {
    const keys = Object.keys(value);
    const out: unknown[] = [];
    for (let i = 0; i < keys.length; i++) {
      if (!Object.hasOwn(value, String(i))) throw badType(path, `Array of ${type}`);
      out.push(value[String(i)]);
    }
    return out;
  }
  throw badType(path, `Array of ${type}`);
}

function validateField(spec: FieldSpec, value: unknown, path: string, fromForm: boolean): unknown {
  const base = spec.endsWith('!') ? spec.slice(0, -1) : spec;
  if (base.endsWith('[]')) {
    const elem = base.slice(0, -2);
    return asArray(value, path, elem, fromForm).map((v, i) => {
      if (v === null || v === undefined) throw badType(`${path}.${i}`, elem);
      return coerceScalar(elem, v, `${path}.${i}`, fromForm);
    });
  }
  return coerceScalar(base, value, path, fromForm);
}

function validateObject(
  schema: Schema,
  input: Record<string, unknown>,
  prefix: string,
  fromForm: boolean,
): Params {
  const out: Params = {};
  for (const [name, spec] of Object.entries(schema)) {
    const value = Object.hasOwn(input, name) ? input[name] : undefined;
    // JSON null is treated as absent: the SDK strips nulls itself, other clients may not.
    if (value === undefined || value === null) {
      if (spec.endsWith('!')) throw missing(prefix + name);
      continue;
    }
    out[name] = validateField(spec, value, prefix + name, fromForm);
  }
  for (const name of Object.keys(input)) {
    if (!Object.hasOwn(schema, name)) {
      throw new ApiError('UnknownParameter', `The parameter \`${prefix}${name}\` is not recognized.`);
    }
  }
  return out;
}

/** Validates an action's parameters; returns a fresh object holding only typed, known fields. */
export function validateParams(schema: Schema, input: unknown, fromForm: boolean): Params {
  if (!isPlainObject(input)) {
    throw new ApiError('InvalidParameter', 'The request body must be a JSON object.');
  }
  return validateObject(schema, input, '', fromForm);
}

/**
 * `Tags.0.TagKey=env` → `{ Tags: { '0': { TagKey: 'env' } } }` (arrays are recognised later, against
 * the schema). A key that is both a leaf and a parent is malformed.
 */
export function unflatten(entries: Iterable<readonly [string, string]>): Record<string, unknown> {
  const root: Record<string, unknown> = Object.create(null);
  for (const [key, value] of entries) {
    const parts = key.split('.');
    if (parts.some((p) => p === '')) {
      throw new ApiError('InvalidParameter', `The parameter name \`${key}\` is not valid.`);
    }
    let node = root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      const last = i === parts.length - 1;
      const existing = node[part];
      if (last) {
        if (existing !== undefined) {
          throw new ApiError('InvalidParameter', `The parameter \`${key}\` is given more than once.`);
        }
        node[part] = value;
      } else {
        if (existing === undefined) {
          const child: Record<string, unknown> = Object.create(null);
          node[part] = child;
          node = child;
        } else if (isPlainObject(existing)) {
          node = existing;
        } else {
          throw new ApiError('InvalidParameter', `The parameter \`${key}\` is not valid.`);
        }
      }
    }
  }
  return toPlain(root) as Record<string, unknown>;
}

// Null-prototype objects keep `__proto__` keys inert while building; plain ones are easier downstream.
function toPlain(v: unknown): unknown {
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    Object.defineProperty(out, k, {
      value: toPlain(v[k]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

// Typed accessors for validated params: validation already guaranteed the types.
export const str = (p: Params, k: string): string | undefined => p[k] as string | undefined;
export const int = (p: Params, k: string): number | undefined => p[k] as number | undefined;
export const bool = (p: Params, k: string): boolean | undefined => p[k] as boolean | undefined;
export const arr = <T = unknown>(p: Params, k: string): T[] | undefined => p[k] as T[] | undefined;

export function reqStr(p: Params, k: string): string {
  return p[k] as string;
}
export function reqInt(p: Params, k: string): number {
  return p[k] as number;
}
