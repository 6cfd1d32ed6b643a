import * as vscode from 'vscode';
import type { LogFields, LoggerPort, LogLevel } from '../core/ports';

/** LoggerPort over the one "Vigil" LogOutputChannel; components show as `[component]`. */
export class OutputChannelLogger implements LoggerPort {
  constructor(
    private readonly channel: vscode.LogOutputChannel,
    private readonly component = 'vigil',
  ) {}

  log(level: LogLevel, message: string, fields?: LogFields): void {
    const text = `[${this.component}] ${message}${fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ''}`;
    switch (level) {
      case 'debug':
        this.channel.debug(text);
        break;
      case 'info':
        this.channel.info(text);
        break;
      case 'warn':
        this.channel.warn(text);
        break;
      case 'error':
        this.channel.error(text);
        break;
    }
  }

  child(component: string): LoggerPort {
    return new OutputChannelLogger(this.channel, component);
  }
}
