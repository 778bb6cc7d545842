// Checks msg.payload against a JSON Schema (the node's, a built-in one, or msg.schema); invalid messages leave
// on the second output with ajv's errors and one readable line.
import { fail, ok, type Result, type TelemetryError } from '../../lib/formats/errors';
import { resolveSenml } from '../../lib/formats/senml';
import { BUILTIN_SCHEMAS } from '../../lib/schema/builtin-schemas';
import { documentOf, DEFAULT_MAX_BYTES } from '../../lib/schema/document';
import { SchemaCache, type CompiledSchema } from '../../lib/schema/validator';
import { backToFlow, shortMessage } from '../shared/back-to-flow';
import { messages } from '../shared/messages';
import type { NodeAPI, NodeDef, NodeInstance, NodeMessage, NodeStatus } from '../shared/node-red';
import { invalidMessage } from '../shared/telemetry-messages';
import enUS from './locales/en-US/telemetry-validate.json';

interface ValidateDef extends NodeDef {
  schemaSource?: string;
  builtin?: string;
  schema?: string;
  maxBytes?: string;
}

interface Selected {
  compiled: CompiledSchema;
  /** SenML also has resolution rules a schema cannot express. */
  senml: boolean;
}

export = function register(RED: NodeAPI): void {
  const t = messages(RED, enUS);

  function TelemetryValidate(this: NodeInstance, def: ValidateDef): void {
    RED.nodes.createNode(this, def);
    const cache = new SchemaCache(32);
    const maxBytes = Number(def.maxBytes) > 0 ? Number(def.maxBytes) : DEFAULT_MAX_BYTES;

    const select = (schema: unknown): Result<Selected> => {
      if (typeof schema === 'string' && BUILTIN_SCHEMAS.has(schema)) {
        const c = cache.compile(BUILTIN_SCHEMAS.get(schema));
        return c.ok ? ok({ compiled: c.value, senml: schema === 'senml' }) : c;
      }
      const c = cache.compile(schema);
      return c.ok ? ok({ compiled: c.value, senml: false }) : c;
    };

    // With the JSON source and no schema text, every message must bring msg.schema: not a config error.
    const onlyFromMsg = def.schemaSource === 'json' && !(def.schema && def.schema.trim());
    const configured: Result<Selected> = onlyFromMsg
      ? fail('BAD_SCHEMA', 'no schema: give one in the node or send msg.schema', 'schema')
      : def.schemaSource === 'json'
        ? select(def.schema)
        : select(def.builtin && BUILTIN_SCHEMAS.has(def.builtin) ? def.builtin : 'senml');
    if (!configured.ok && !onlyFromMsg) {
      this.error(RED._('telemetry-validate.errors.schema', { message: configured.error.message }));
      this.status({ fill: 'red', shape: 'ring', text: RED._('telemetry-validate.status.badSchema') });
    }

    let shown = '';
    const show = (s: NodeStatus): void => {
      const key = `${s.fill ?? ''}${s.text ?? ''}`;
      if (key !== shown) {
        shown = key;
        this.status(s);
      }
    };

    // A message ends with exactly one done(). Node-RED clones the message for a second wire and for Complete and
    // Catch nodes; a message nested deeper than the stack makes send or done throw, which is reported here
    // (without the message, which could not be cloned either) instead of calling done a second time.
    const flowThrew = (message: string): void => this.error(t('telemetry-validate.errors.flowThrew', { message }));

    /** Where `msg` goes: output 1 when valid, output 2 (with msg.error) when not. */
    const route = (msg: NodeMessage): [NodeMessage | null, NodeMessage | null] => {
      const reject = (error: TelemetryError & { errors?: readonly unknown[] }): [null, NodeMessage] => {
        show({ fill: 'yellow', shape: 'ring', text: error.code });
        return [null, invalidMessage(msg, error)];
      };
      const selected = msg.schema !== undefined ? select(msg.schema) : configured;
      if (!selected.ok) return reject(selected.error);
      const doc = documentOf(msg.payload, maxBytes);
      if (!doc.ok) return reject(doc.error);
      const verdict = selected.value.compiled.validate(doc.value);
      if (!verdict.valid) return reject(verdict.error);
      if (selected.value.senml) {
        const resolved = resolveSenml(doc.value, Date.now() / 1000);
        if (!resolved.ok) return reject({ ...resolved.error, errors: [] });
      }
      show({ fill: 'green', shape: 'dot', text: RED._('telemetry-validate.status.valid') });
      return [msg, null];
    };

    this.on('input', (msg, send, done) => {
      let failure: Error | undefined;
      try {
        const outputs = route(msg);
        try {
          send(outputs);
        } catch (err) {
          failure = new Error(t('telemetry-validate.errors.flowThrew', { message: shortMessage(err) }));
        }
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
      }
      backToFlow(() => (failure ? done(failure) : done()), flowThrew);
    });
  }

  RED.nodes.registerType('telemetry-validate', TelemetryValidate as (this: never, def: never) => void);
};
