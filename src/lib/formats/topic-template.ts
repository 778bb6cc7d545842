// msg.topic from a template such as `sensors/{device}/{sensor}`: placeholders are whole values that may not
// add levels or wildcards, and the result is checked as a publish topic before it leaves the node.
import { checkPublishTopic } from '../mqtt/topic-rules';
import { fail, ok, quote, type Result } from './errors';

export type Placeholder = 'device' | 'sensor' | 'measurement';
const KNOWN: readonly Placeholder[] = ['device', 'sensor', 'measurement'];

export interface TopicTemplate {
  source: string;
  parts: ReadonlyArray<string | { name: Placeholder }>;
  uses: ReadonlySet<Placeholder>;
}

export type TopicVars = Partial<Record<Placeholder, string>>;

export function compileTopicTemplate(source: string, allowed: readonly Placeholder[] = KNOWN): Result<TopicTemplate> {
  const parts: Array<string | { name: Placeholder }> = [];
  const uses = new Set<Placeholder>();
  const re = /\{([^{}]*)\}/g;
  let last = 0;
  for (let m = re.exec(source); m !== null; m = re.exec(source)) {
    const name = m[1] as Placeholder;
    if (!allowed.includes(name)) {
      const list = allowed.map((a) => `{${a}}`).join(', ');
      return fail('BAD_TEMPLATE', `unknown placeholder {${m[1]}} in topic template; this format allows ${list || 'none'}`, 'topic');
    }
    if (m.index > last) parts.push(source.slice(last, m.index));
    parts.push({ name });
    uses.add(name);
    last = m.index + m[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  const rest = source.replace(re, 'x');
  if (rest.includes('{') || rest.includes('}')) return fail('BAD_TEMPLATE', `unbalanced brace in topic template ${quote(source)}`, 'topic');
  const t: TopicTemplate = { source, parts, uses };
  // A template must give a valid topic for ordinary values, so config mistakes show at deploy, not per message.
  const probe = renderTopic(t, { device: 'd', sensor: 's', measurement: 'm' });
  if (!probe.ok) return fail('BAD_TEMPLATE', `topic template ${quote(source)}: ${probe.error.message}`, 'topic');
  return ok(t);
}

export function renderTopic(t: TopicTemplate, vars: TopicVars): Result<string> {
  let topic = '';
  for (const part of t.parts) {
    if (typeof part === 'string') {
      topic += part;
      continue;
    }
    const v = vars[part.name];
    if (v === undefined || v === '') {
      return fail('MISSING_FIELD', `topic template needs {${part.name}}: set msg.${part.name} or the node's ${part.name}`, part.name);
    }
    if (/[/+#]/.test(v)) {
      return fail('INVALID_TOPIC', `${part.name} ${quote(v)} contains '/', '+' or '#' and cannot be a topic level`, part.name);
    }
    topic += v;
  }
  const problem = checkPublishTopic(topic);
  if (problem) return fail('INVALID_TOPIC', problem.message, 'topic');
  return ok(topic);
}
