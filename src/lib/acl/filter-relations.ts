// Relations between two topic filters, used to say what a subscription can deliver under a set of read rules.
// Both respect Mosquitto's '$' rule: a filter whose first level is a wildcard matches no topic starting with '$'.

function dollarLiteral(level: string | undefined): boolean {
  return level !== undefined && level.startsWith('$');
}

/** True when every topic matched by `inner` is also matched by `outer`. */
export function filterCovers(outer: string, inner: string): boolean {
  const a = outer.split('/');
  const b = inner.split('/');
  for (let i = 0; i < b.length; i++) {
    const al = a[i];
    const bl = b[i];
    if (al === undefined) return false;
    if (al === '#') return !(i === 0 && dollarLiteral(bl));
    if (bl === '#') return false;
    if (al === '+') {
      if (i === 0 && dollarLiteral(bl)) return false;
      continue;
    }
    if (bl === '+' || al !== bl) return false;
  }
  // inner ended: outer must end too, or continue with '#' (which also matches the parent level).
  return a.length === b.length || (a.length === b.length + 1 && a[b.length] === '#');
}

/** True when at least one concrete topic is matched by both filters. */
export function filtersIntersect(x: string, y: string): boolean {
  const a = x.split('/');
  const b = y.split('/');
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const al = a[i];
    const bl = b[i];
    if (al === '#' || bl === '#') {
      const other = al === '#' ? bl : al;
      return !(i === 0 && dollarLiteral(other));
    }
    if (al === undefined || bl === undefined) return false;
    if (al === '+' && bl === '+') continue;
    if (al === '+' || bl === '+') {
      if (i === 0 && dollarLiteral(al === '+' ? bl : al)) return false;
      continue;
    }
    if (al !== bl) return false;
  }
  return true;
}

export interface OrderedReadRule {
  filter: string;
  allow: boolean;
  describe: string;
}

/**
 * First-match analysis of what a subscription `filter` can deliver, given read rules in evaluation order and the
 * decision when none matches. Exact for the common cases; answers 'some' when it cannot prove 'all' or 'none'.
 */
export function analyseDelivery(
  filter: string,
  rules: Iterable<OrderedReadRule>,
  fallback: { allow: boolean; describe: string },
): { delivery: 'all' | 'some' | 'none'; reason: string } {
  let allowSeen: OrderedReadRule | undefined;
  let denySeen: OrderedReadRule | undefined;
  for (const rule of rules) {
    if (!filtersIntersect(rule.filter, filter)) continue;
    if (filterCovers(rule.filter, filter)) {
      if (rule.allow && !denySeen) return { delivery: 'all', reason: rule.describe };
      if (!rule.allow && !allowSeen) return { delivery: 'none', reason: rule.describe };
      return mixed(allowSeen ?? rule, denySeen ?? rule);
    }
    if (rule.allow) allowSeen ??= rule;
    else denySeen ??= rule;
  }
  if (fallback.allow && !denySeen) return { delivery: 'all', reason: fallback.describe };
  if (!fallback.allow && !allowSeen) return { delivery: 'none', reason: fallback.describe };
  return mixed(allowSeen, denySeen, fallback.describe);
}

function mixed(
  allow: OrderedReadRule | undefined,
  deny: OrderedReadRule | undefined,
  fallback?: string,
): { delivery: 'some'; reason: string } {
  const parts: string[] = [];
  if (allow) parts.push(`granted for some topics by ${allow.describe}`);
  if (deny) parts.push(`denied for some topics by ${deny.describe}`);
  if (fallback) parts.push(`otherwise ${fallback}`);
  return { delivery: 'some', reason: parts.join('; ') };
}
