import type { LoggerPort, LogLevel } from '../../src/core/ports';

/** Keeps log lines in memory so tests can assert on them. */
export class MemoryLogger implements LoggerPort {
  readonly lines: Array<{ level: LogLevel; message: string }> = [];
  log(level: LogLevel, message: string): void {
    this.lines.push({ level, message });
  }
  child(): LoggerPort {
    return this;
  }
}
