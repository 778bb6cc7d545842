import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { helper, logLines, nodeModule } from '../helpers/node-red';
import { collect, flowWith, settle } from './telemetry-collect';

const validateModule = nodeModule('telemetry-validate');
const formatModule = nodeModule('telemetry-format');

interface ErrorShape {
  code: string;
  message: string;
  errors: Array<{ instancePath: string; keyword: string }>;
}

describe('telemetry-validate node', () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  test('the format node’s SenML passes the built-in SenML schema unchanged', async () => {
    await helper.load([formatModule, validateModule], [
      { id: 'f', type: 'telemetry-format', format: 'senml', wires: [['n1'], []] },
      ...flowWith({ type: 'telemetry-validate', schemaSource: 'builtin', builtin: 'senml' }),
    ]);
    const io = collect();
    helper.getNode('f').receive({ payload: { temperature: 25.08 }, units: { temperature: 'Cel' }, device: 'd1', timestamp: 1700000000000 });
    await io.until(1);
    assert.equal(typeof io.out[0].payload, 'string', 'passed on as it came');
    assert.equal(io.out[0].topic, 'senml/d1');
    await settle();
    assert.equal(io.bad.length, 0);
  });

  test('schema errors and SenML resolution errors leave on output 2, readable and with ajv errors', async () => {
    await helper.load(validateModule, flowWith({ type: 'telemetry-validate', schemaSource: 'builtin', builtin: 'senml' }));
    const io = collect();
    const n1 = helper.getNode('n1');
    n1.receive({ payload: [{ n: 'ok', v: 1 }, { n: 'x', v: '1' }] });
    n1.receive({ payload: '[{"n":"x"}]' });
    n1.receive({ payload: '{not json' });
    await io.until(0, 3);
    const [schema, resolution, notJson] = io.bad.map((m) => m.error as ErrorShape);
    assert.equal(schema.code, 'SCHEMA_INVALID');
    assert.equal(schema.message, 'payload[1].v must be number (got string "1")');
    assert.deepEqual(schema.errors.map((e) => [e.instancePath, e.keyword]), [['/1/v', 'type']]);
    assert.equal(resolution.code, 'BAD_FIELD');
    assert.match(resolution.message, /no value/);
    assert.equal(notJson.code, 'NOT_JSON');
  });

  test('msg.schema (2020-12) is used instead of the node schema', async () => {
    await helper.load(validateModule, flowWith({ type: 'telemetry-validate', schemaSource: 'builtin', builtin: 'senml' }));
    const io = collect();
    const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { t: { type: 'number', maximum: 100 } }, required: ['t'] };
    helper.getNode('n1').receive({ payload: { t: 20 }, schema });
    helper.getNode('n1').receive({ payload: { t: 200 }, schema });
    helper.getNode('n1').receive({ payload: { t: 1 }, schema: 'thingsboard' });
    await io.until(1, 2);
    assert.deepEqual(io.out[0].payload, { t: 20 });
    assert.equal((io.bad[0].error as ErrorShape).message, 'payload.t must be <= 100 (got number 200)');
    assert.match((io.bad[1].error as ErrorShape).message, /missing required property "ts"/);
  });

  test('a broken node schema is reported at deploy and each message goes to output 2 as BAD_SCHEMA', async () => {
    await helper.load(validateModule, flowWith({ type: 'telemetry-validate', schemaSource: 'json', schema: '{"type": "nope"}' }));
    const io = collect();
    helper.getNode('n1').receive({ payload: 1 });
    await io.until(0, 1);
    assert.equal((io.bad[0].error as ErrorShape).code, 'BAD_SCHEMA');
  });
  test('a message the flow cannot clone for a Complete node: done() runs once, the failure is reported, the next message passes', async () => {
    await helper.load(validateModule, [
      ...flowWith({ type: 'telemetry-validate', schemaSource: 'builtin', builtin: 'senml' }),
      { id: 'done1', type: 'complete', scope: ['n1'], uncaught: false, wires: [['completed']] },
      { id: 'completed', type: 'helper' },
    ]);
    const io = collect();
    const n1 = helper.getNode('n1');
    const calls: Array<Error | undefined> = [];
    const target = n1 as unknown as { _complete: (msg: unknown, err?: Error) => void };
    const complete = target._complete.bind(n1);
    target._complete = (msg, err) => {
      calls.push(err);
      complete(msg, err);
    };
    // 400 KB of brackets parse fine, but Node-RED's recursive clone for the Complete node overflows the stack.
    const nested: unknown = JSON.parse(`${'['.repeat(200000)}${']'.repeat(200000)}`);
    n1.receive({ payload: [{ n: 't', v: 1 }], nested });
    await io.until(1);
    await settle();
    assert.equal(calls.length, 1, 'done() called exactly once');
    assert.equal(calls[0], undefined, 'the message was valid, so done() had no error');
    const lines = logLines('could not be passed back to the flow');
    assert.equal(lines.length, 1, 'the failure is reported once');
    assert.ok(lines[0].length < 300, 'a short message');
    n1.receive({ payload: [{ n: 't', v: 2 }] });
    await io.until(2);
    assert.equal(calls.length, 2);
  });
});
