import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deathTopicOf, isNodeDeathTopic, SparkplugEdgeNode } from '../../src/lib/formats/sparkplug';
import { decodeSparkplug, encodeSparkplug, toNumber, type SparkplugPayload } from '../../src/lib/formats/sparkplug-codec';
import type { FormatOptions, OutMessage } from '../../src/lib/formats/types';
import { reading } from './fixtures';

/** The timestamp the Sparkplug specification's payload examples use. */
const SPEC_TS = 1486144502122;

function edge(o: Partial<FormatOptions> = {}): SparkplugEdgeNode {
  const e = SparkplugEdgeNode.create({ format: 'sparkplug', spGroup: 'Sparkplug B Devices', spEdgeNode: 'Raspberry Pi', ...o }, () => SPEC_TS);
  assert.ok(e.ok, e.ok ? '' : e.error.message);
  return e.value;
}

function send(e: SparkplugEdgeNode, values: Record<string, number | boolean>, timestamp = SPEC_TS): OutMessage[] {
  const out = e.format(reading({ payload: values, timestamp }));
  assert.ok(out.ok, out.ok ? '' : out.error.message);
  return out.value;
}

interface Plain {
  timestamp?: number;
  seq?: number;
  metrics: Array<{ name?: string; type: string; value: unknown; timestamp?: number }>;
}

/** Decodes and turns 64-bit longs into numbers so payloads compare with the specification's JSON. */
function decode(m: OutMessage): Plain {
  const p: SparkplugPayload = decodeSparkplug(m.payload as Buffer);
  const out: Plain = { metrics: (p.metrics ?? []).map((x) => ({ name: x.name, type: x.type, value: x.type === 'UInt64' ? toNumber(x.value) : x.value, timestamp: toNumber(x.timestamp) })) };
  if (p.timestamp !== undefined) out.timestamp = toNumber(p.timestamp);
  if (p.seq !== undefined) out.seq = toNumber(p.seq);
  return out;
}

test('first reading: NBIRTH like the specification example (seq 0, bdSeq, Rebirth false, the metric)', () => {
  const [birth, ...rest] = send(edge(), { 'Supply Voltage': 12.1 });
  assert.equal(rest.length, 0);
  assert.equal(birth.topic, 'spBv1.0/Sparkplug B Devices/NBIRTH/Raspberry Pi');
  assert.equal(birth.qos, 0);
  assert.equal(birth.retain, false);
  assert.deepEqual(decode(birth), {
    timestamp: SPEC_TS,
    seq: 0,
    metrics: [
      { name: 'bdSeq', type: 'UInt64', value: 0, timestamp: SPEC_TS },
      { name: 'Node Control/Rebirth', type: 'Boolean', value: false, timestamp: SPEC_TS },
      { name: 'Supply Voltage', type: 'Double', value: 12.1, timestamp: SPEC_TS },
    ],
  });
});

test('then NDATA with only the reported metrics and seq counting 1..255, 0, 1 ...', () => {
  const e = edge();
  send(e, { 'Supply Voltage': 12.1 });
  const [data] = send(e, { 'Supply Voltage': 12.3 });
  assert.equal(data.topic, 'spBv1.0/Sparkplug B Devices/NDATA/Raspberry Pi');
  assert.deepEqual(decode(data), { timestamp: SPEC_TS, seq: 1, metrics: [{ name: 'Supply Voltage', type: 'Double', value: 12.3, timestamp: SPEC_TS }] });
  const seqs: number[] = [];
  for (let i = 0; i < 300; i++) seqs.push(decode(send(e, { 'Supply Voltage': i })[0]).seq as number);
  assert.equal(seqs[0], 2);
  assert.equal(seqs[253], 255);
  assert.equal(seqs[254], 0, 'wraps after 255');
  assert.equal(seqs[299], (2 + 299) % 256);
});

test('NDEATH for the Will carries the same bdSeq as the NBIRTH and no seq; bdSeq comes from the options', () => {
  const e = edge({ spBdSeq: 7 });
  const [birth] = send(e, { t: 1 });
  const death = e.death(SPEC_TS);
  assert.equal(death.topic, 'spBv1.0/Sparkplug B Devices/NDEATH/Raspberry Pi');
  assert.equal(death.qos, 1);
  assert.equal(death.retain, false);
  assert.deepEqual(decode(death), { timestamp: SPEC_TS, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 7, timestamp: SPEC_TS }] });
  assert.equal(decode(birth).metrics[0].value, 7);
  assert.equal(SparkplugEdgeNode.create({ format: 'sparkplug', spGroup: 'g', spEdgeNode: 'e', spBdSeq: 256 }).ok, false);
});

test('with a device id: NBIRTH, DBIRTH (seq 1, units as engUnit), then DDATA', () => {
  const e = edge({ spDevice: 'bme280' });
  const out = e.format(reading({ payload: { temperature: 25.08 }, units: { temperature: 'Cel' }, timestamp: SPEC_TS }));
  assert.ok(out.ok);
  const [nbirth, dbirth] = out.value;
  assert.deepEqual(decode(nbirth).metrics.map((m) => m.name), ['bdSeq', 'Node Control/Rebirth']);
  assert.equal(dbirth.topic, 'spBv1.0/Sparkplug B Devices/DBIRTH/Raspberry Pi/bme280');
  assert.equal(decode(dbirth).seq, 1);
  const raw = decodeSparkplug(dbirth.payload as Buffer);
  assert.equal(raw.metrics?.[0].properties?.engUnit.value, 'Cel');
  const [ddata] = send(e, { temperature: 25.1 });
  assert.equal(ddata.topic, 'spBv1.0/Sparkplug B Devices/DDATA/Raspberry Pi/bme280');
  assert.equal(decode(ddata).seq, 2);
});

test('a metric not in the last birth (or a changed type) triggers a rebirth with every known metric', () => {
  const e = edge();
  send(e, { a: 1 });
  send(e, { a: 2 });
  const [rebirth] = send(e, { b: true });
  assert.equal(rebirth.topic, 'spBv1.0/Sparkplug B Devices/NBIRTH/Raspberry Pi');
  const p = decode(rebirth);
  assert.equal(p.seq, 0);
  assert.deepEqual(p.metrics.slice(2).map((m) => [m.name, m.value]), [['a', 2], ['b', true]]);
  const [typeChange] = send(e, { a: false });
  assert.match(typeChange.topic, /NBIRTH/);
});

test('an NCMD Rebirth command makes the node publish its births again; other commands do nothing', () => {
  const e = edge();
  send(e, { a: 1 });
  send(e, { a: 2 });
  const ncmd = 'spBv1.0/Sparkplug B Devices/NCMD/Raspberry Pi';
  const cmd = encodeSparkplug({ timestamp: SPEC_TS, metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] });
  const r = e.control(ncmd, cmd);
  assert.ok(r && r.ok);
  assert.equal(r.value.length, 1);
  assert.equal(decode(r.value[0]).seq, 0);
  const other = e.control(ncmd, encodeSparkplug({ metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: false }] }));
  assert.ok(other && other.ok && other.value.length === 0);
  assert.equal(e.control('spBv1.0/other/NCMD/x', cmd), undefined);
  const junk = e.control(ncmd, Buffer.from([0xff, 0xff, 0xff]));
  assert.ok(junk && !junk.ok);
  const text = e.control(ncmd, 'rebirth');
  assert.ok(text && !text.ok);
});

test('a Rebirth command that arrives as a string (a subscription in auto mode, valid UTF-8) still works', () => {
  const e = edge();
  send(e, { a: 1 });
  const bytes = encodeSparkplug({ metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] });
  const asText = new TextDecoder('utf-8', { fatal: true }).decode(bytes); // throws if the bytes were not UTF-8
  const r = e.control('spBv1.0/Sparkplug B Devices/NCMD/Raspberry Pi', asText);
  assert.ok(r && r.ok, JSON.stringify(r));
  assert.match(r.value[0].topic, /NBIRTH/);
});

test('ids with / + # are refused; "bdSeq" cannot be a node metric', () => {
  assert.equal(SparkplugEdgeNode.create({ format: 'sparkplug', spGroup: 'a/b', spEdgeNode: 'e' }).ok, false);
  assert.equal(SparkplugEdgeNode.create({ format: 'sparkplug', spGroup: 'g', spEdgeNode: 'e#' }).ok, false);
  assert.equal(SparkplugEdgeNode.create({ format: 'sparkplug', spGroup: 'g', spEdgeNode: 'e', spDevice: 'd+' }).ok, false);
  assert.equal(SparkplugEdgeNode.create({ format: 'sparkplug', spGroup: 'g' }).ok, false, 'an edge node id is needed');
  assert.ok(SparkplugEdgeNode.create({ format: 'sparkplug', spGroup: 'g', device: 'dev-1' }).ok, 'the node device is the default edge node id');
  const out = edge().format(reading({ payload: { bdSeq: 3 }, timestamp: SPEC_TS }));
  assert.equal(out.ok, false);
});

test('a new MQTT session: births with the new bdSeq and every known metric, seq from 0, and an NDEATH to match', () => {
  const e = edge({ spBdSeq: 7 });
  assert.equal(e.hasBorn, false);
  send(e, { t: 1 });
  send(e, { t: 2 });
  assert.equal(e.hasBorn, true);
  const again = e.newSession(8);
  assert.ok(again.ok);
  const [birth] = again.value;
  assert.equal(birth.topic, 'spBv1.0/Sparkplug B Devices/NBIRTH/Raspberry Pi');
  const d = decode(birth);
  assert.equal(d.seq, 0);
  assert.deepEqual(d.metrics.map((m) => [m.name, m.value]), [['bdSeq', 8], ['Node Control/Rebirth', false], ['t', 2]]);
  assert.equal(decode(e.death(SPEC_TS)).metrics[0].value, 8);
  assert.equal(decode(send(e, { t: 3 })[0]).seq, 1, 'data goes on from the new birth');
  assert.equal(e.newSession(256).ok, false);
});

test('NDEATH topics are told apart from other Sparkplug and MQTT topics', () => {
  assert.equal(isNodeDeathTopic('spBv1.0/plant/NDEATH/edge-1'), true);
  assert.equal(isNodeDeathTopic('spBv1.0/plant/NDEATH/edge-1/device'), false);
  assert.equal(isNodeDeathTopic('spBv1.0/plant/NBIRTH/edge-1'), false);
  assert.equal(isNodeDeathTopic('status/offline'), false);
});

test('the edge node an NDATA, DDATA or DBIRTH belongs to, by its NDEATH topic', () => {
  assert.equal(deathTopicOf('spBv1.0/plant/NDATA/edge-1'), 'spBv1.0/plant/NDEATH/edge-1');
  assert.equal(deathTopicOf('spBv1.0/plant/DDATA/edge-1/pump'), 'spBv1.0/plant/NDEATH/edge-1');
  assert.equal(deathTopicOf('spBv1.0/plant/DBIRTH/edge-1/pump'), 'spBv1.0/plant/NDEATH/edge-1');
  assert.equal(deathTopicOf('spBv1.0/plant/NBIRTH/edge-1'), undefined, 'a birth brings its own death');
  assert.equal(deathTopicOf('spBv1.0/plant/NCMD/edge-1'), undefined);
  assert.equal(deathTopicOf('sensors/plant/NDATA/edge-1'), undefined);
});
