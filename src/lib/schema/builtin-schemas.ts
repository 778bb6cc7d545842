// Schemas for the pack's own formats, so the output of the format node can be checked (and any other
// producer's messages held to the same rules).

const SENML_NAME_CHARS = '^[A-Za-z0-9\\-:./_]*$';
const VALUE_FIELDS = ['v', 'vs', 'vb', 'vd'];
const valuePairs: Array<{ required: string[] }> = [];
for (let i = 0; i < VALUE_FIELDS.length; i++) {
  for (let j = i + 1; j < VALUE_FIELDS.length; j++) valuePairs.push({ required: [VALUE_FIELDS[i], VALUE_FIELDS[j]] });
}

/** RFC 8428 SenML JSON pack (draft-07). Resolution rules (bn+n etc.) are checked by resolveSenml. */
export const SENML_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'SenML JSON pack (RFC 8428)',
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    properties: {
      bn: { type: 'string', pattern: SENML_NAME_CHARS },
      bt: { type: 'number' },
      bu: { type: 'string' },
      bv: { type: 'number' },
      bs: { type: 'number' },
      bver: { type: 'integer', minimum: 1 },
      n: { type: 'string', pattern: SENML_NAME_CHARS },
      u: { type: 'string' },
      v: { type: 'number' },
      vs: { type: 'string' },
      vb: { type: 'boolean' },
      vd: { type: 'string', pattern: '^[A-Za-z0-9_-]*$' },
      s: { type: 'number' },
      t: { type: 'number' },
      ut: { type: 'number', minimum: 0 },
    },
    // Labels ending in '_' are must-understand extensions this pack does not know.
    patternProperties: { '_$': false },
    not: { anyOf: valuePairs },
  },
} as const;

/** The pack's JSON envelope (format `json`, also used for AWS IoT and Azure IoT Hub), 2020-12. */
export const ENVELOPE_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'Telemetry JSON envelope',
  type: 'object',
  required: ['timestamp', 'values'],
  properties: {
    device: { type: 'string', minLength: 1 },
    sensor: { type: 'string', minLength: 1 },
    timestamp: { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'integer', minimum: 0 }] },
    values: { type: 'object', minProperties: 1, additionalProperties: { type: ['number', 'boolean'] } },
    units: { type: 'object', additionalProperties: { type: 'string', minLength: 1 } },
    metadata: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
  },
  additionalProperties: false,
} as const;

/** ThingsBoard telemetry with a timestamp, draft-07. */
export const THINGSBOARD_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'ThingsBoard telemetry { ts, values }',
  type: 'object',
  required: ['ts', 'values'],
  properties: {
    ts: { type: 'integer', minimum: 0 },
    values: { type: 'object', minProperties: 1, additionalProperties: { type: ['number', 'boolean', 'string'] } },
  },
  additionalProperties: false,
} as const;

export const BUILTIN_SCHEMAS: ReadonlyMap<string, object> = new Map<string, object>([
  ['senml', SENML_SCHEMA],
  ['json', ENVELOPE_SCHEMA],
  ['thingsboard', THINGSBOARD_SCHEMA],
]);
