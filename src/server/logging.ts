/** Structured logs: one JSON object per line (time, level, event, fields) on stderr. */

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export function jsonLogger(write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const emit = (level: string, event: string, fields: LogFields = {}): void => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }, jsonSafe)}\n`);
  };
  return {
    info: (event, fields) => emit('info', event, fields),
    warn: (event, fields) => emit('warn', event, fields),
    error: (event, fields) => emit('error', event, fields),
  };
}

/** Collects events in memory (tests). */
export function memoryLogger(): Logger & { readonly events: Array<{ level: string; event: string } & Record<string, unknown>> } {
  const events: Array<{ level: string; event: string } & Record<string, unknown>> = [];
  const push = (level: string) => (event: string, fields: LogFields = {}) => events.push({ level, event, ...fields });
  return { events, info: push('info'), warn: push('warn'), error: push('error') };
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return value.message;
  return value;
}
