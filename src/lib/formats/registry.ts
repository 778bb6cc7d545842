// Every format by name, so the node (and tests) build one from the node's options.
import { fail, type Result } from './errors';
import { createAwsFormatter } from './aws-iot';
import { createAzureFormatter } from './azure-iot';
import { HomeAssistantFormatter } from './home-assistant';
import { createInfluxFormatter } from './influx-line';
import { createJsonFormatter } from './json-envelope';
import { createSenmlFormatter } from './senml';
import { SparkplugEdgeNode } from './sparkplug';
import { createThingsBoardFormatter } from './thingsboard';
import { FORMAT_NAMES, type FormatName, type FormatOptions, type Formatter } from './types';

const FACTORIES: Record<FormatName, (o: FormatOptions, now: () => number) => Result<Formatter>> = {
  json: createJsonFormatter,
  senml: createSenmlFormatter,
  influx: createInfluxFormatter,
  homeassistant: (o) => HomeAssistantFormatter.create(o),
  thingsboard: createThingsBoardFormatter,
  aws: createAwsFormatter,
  azure: createAzureFormatter,
  sparkplug: (o, now) => SparkplugEdgeNode.create(o, now),
};

export function isFormatName(v: unknown): v is FormatName {
  return typeof v === 'string' && (FORMAT_NAMES as readonly string[]).includes(v);
}

export function createFormatter(o: FormatOptions, now: () => number = Date.now): Result<Formatter> {
  if (!isFormatName(o.format)) return fail('BAD_OPTION', `unknown format ${JSON.stringify(o.format)}; expected one of ${FORMAT_NAMES.join(', ')}`, 'format');
  if (o.qos !== undefined && o.qos !== 0 && o.qos !== 1 && o.qos !== 2) return fail('BAD_OPTION', 'QoS must be 0, 1 or 2', 'qos');
  return FACTORIES[o.format](o, now);
}
