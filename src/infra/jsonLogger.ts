import type { LogFields, LoggerPort, LogLevel } from '../core/ports';

const ORDER: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Structured JSON lines (one object per line), as the agent writes them to stdout. */
export class JsonLogger implements LoggerPort {
  constructor(
    private readonly write: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
    private readonly minLevel: LogLevel = 'info',
    private readonly component = 'vigil',
  ) {}

  log(level: LogLevel, message: string, fields?: LogFields): void {
    if (ORDER[level] < ORDER[this.minLevel]) return;
    this.write(JSON.stringify({ time: new Date().toISOString(), level, component: this.component, msg: message, ...fields }));
  }

  child(component: string): LoggerPort {
    return new JsonLogger(this.write, this.minLevel, component);
  }
}
