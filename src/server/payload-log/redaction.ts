/**
 * Field redaction for the JSON-lines collector. A rule is a dotted path into a record's JSON,
 * optionally prefixed with a model name and a colon (`m:predict_log.request.inputs.ssn`); `*`
 * matches any one key or array index. The value found is replaced by "[REDACTED]".
 *
 *   predict_log.request.inputs.*          every input tensor
 *   predict_log.response.outputs.scores   one output
 *   *.request.model_spec.signature_name   whatever the log type
 */
export const REDACTED = '[REDACTED]';

export interface RedactionRule {
  /** Undefined: every model. */
  readonly model: string | undefined;
  readonly path: readonly string[];
}

export function parseRedactionRules(text: string): RedactionRule[] {
  return text.split(',').map((rule) => rule.trim()).filter(Boolean).map((rule) => {
    const colon = rule.indexOf(':');
    const model = colon > 0 ? rule.slice(0, colon) : undefined;
    const path = (colon > 0 ? rule.slice(colon + 1) : rule).split('.');
    if (path.some((part) => part === '')) throw new Error(`invalid redaction rule "${rule}": empty path segment`);
    return { model, path };
  });
}

export function rulesFor(rules: readonly RedactionRule[], model: string): RedactionRule[] {
  return rules.filter((r) => r.model === undefined || r.model === model);
}

/** Redacts `record` in place. */
export function redact(record: unknown, rules: readonly RedactionRule[]): void {
  for (const rule of rules) redactPath(record, rule.path, 0);
}

function redactPath(node: unknown, path: readonly string[], depth: number): void {
  if (typeof node !== 'object' || node === null) return;
  const container = node as Record<string, unknown>;
  const key = path[depth]!;
  const keys = key === '*' ? Object.keys(container) : Object.hasOwn(container, key) ? [key] : [];
  for (const k of keys) {
    if (depth === path.length - 1) container[k] = REDACTED;
    else redactPath(container[k], path, depth + 1);
  }
}
