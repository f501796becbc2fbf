import { getMetadataStorage } from 'class-validator';
import { EZID_ERROR_CODES, EZID_ERROR_STATUS, type EzidErrorCode } from '../common/ezid-http.exception';

/** A class (a DTO, a controller). Internal. */
export type EzidClass = abstract new (...args: never[]) => unknown;

/** A JSON schema object of the document (OpenAPI 3.0 / 3.1 subset the helper writes). */
export type EzidSchemaObject = Record<string, unknown>;

/** Name of the error body schema in `components.schemas`. */
export const EZID_ERROR_SCHEMA = 'EzidError';

/** `{ statusCode, error, code, message }` (and `errors` on `validation_failed`), with the `code` enum. */
export function ezidErrorSchema(): EzidSchemaObject {
  return {
    type: 'object',
    description: 'The error body of every nestjs-ezid response (stable: clients may switch on `code`).',
    required: ['statusCode', 'error', 'code', 'message'],
    properties: {
      statusCode: { type: 'integer', example: 403 },
      error: { type: 'string', example: 'Forbidden' },
      code: { type: 'string', enum: [...EZID_ERROR_CODES], example: 'insufficient_role' },
      message: { type: 'string' },
      errors: {
        type: 'array',
        description: 'Per-field problems, on 400 `validation_failed` only.',
        items: {
          type: 'object',
          required: ['field', 'problems'],
          properties: {
            field: { type: 'string' },
            problems: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
  };
}

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  409: 'Conflict',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** The response of one status: the error body with `code` narrowed to `codes`, and its headers. */
export function ezidErrorResponse(
  status: number,
  codes: readonly EzidErrorCode[],
  ref: string,
): EzidSchemaObject {
  const sorted = EZID_ERROR_CODES.filter((c) => codes.includes(c) && EZID_ERROR_STATUS[c] === status);
  const headers: Record<string, unknown> = {};
  if (status === 401 || status === 403 || status === 400) {
    headers['WWW-Authenticate'] = {
      description: 'The Bearer challenge (RFC 6750), on token and authorization errors.',
      schema: { type: 'string' },
    };
  }
  if (status === 429 || status === 503) {
    headers['Retry-After'] = {
      description: 'Seconds after which a retry may succeed.',
      schema: { type: 'string' },
    };
  }
  return {
    description: `${REASON[status] ?? 'Error'} (nestjs-ezid): ${sorted.map((c) => `\`${c}\``).join(', ')}`,
    ...(Object.keys(headers).length ? { headers } : {}),
    content: {
      'application/json': {
        schema: {
          allOf: [{ $ref: ref }, { type: 'object', properties: { code: { type: 'string', enum: sorted } } }],
        },
      },
    },
  };
}

interface ValidationMetadataLike {
  readonly type: string;
  readonly name?: string;
  readonly propertyName: string;
  readonly constraints?: unknown[];
}

interface MetadataStorageLike {
  getTargetValidationMetadatas(
    target: EzidClass,
    schema: string,
    always: boolean,
    strictGroups: boolean,
  ): ValidationMetadataLike[];
}

/**
 * The JSON schema of a class-validator DTO, read from class-validator's own metadata (the rules the
 * validation pipe applies): `isString`, `maxLength`, `minLength`, `isNotEmpty`, `matches`, `isEmail`,
 * `isOptional`. Unknown fields are refused by the callback pipe, hence `additionalProperties: false`.
 */
export function dtoSchema(dto: EzidClass, description?: string): EzidSchemaObject {
  const storage = getMetadataStorage() as unknown as MetadataStorageLike;
  const metas = storage.getTargetValidationMetadatas(dto, '', true, false);
  const properties: Record<string, Record<string, unknown>> = {};
  const optional = new Set<string>();
  for (const m of metas) {
    const prop = (properties[m.propertyName] ??= {});
    const c = m.constraints ?? [];
    if (m.type === 'conditionalValidation' && m.name === 'isOptional') optional.add(m.propertyName);
    if (m.type !== 'customValidation') continue;
    switch (m.name) {
      case 'isString':
        prop.type = 'string';
        break;
      case 'maxLength':
        prop.maxLength = c[0];
        break;
      case 'minLength':
        prop.minLength = c[0];
        break;
      case 'isNotEmpty':
        prop.minLength = Math.max(1, typeof prop.minLength === 'number' ? prop.minLength : 0);
        break;
      case 'matches':
        if (c[0] instanceof RegExp) prop.pattern = c[0].source;
        break;
      case 'isEmail':
        prop.format = 'email';
        break;
    }
  }
  const names = Object.keys(properties);
  for (const name of names) properties[name].type ??= 'string';
  const required = names.filter((n) => !optional.has(n));
  return {
    type: 'object',
    ...(description ? { description } : {}),
    properties,
    ...(required.length ? { required } : {}),
    additionalProperties: false,
  };
}
