/**
 * The few parts of the 'vscode' API the extension touches at activation, recorded so a unit test
 * can load the real bundle outside VS Code. The e2e tier runs it in a real VS Code.
 */
import Module from 'node:module';

export interface StubRecord {
  commands: string[];
  webviewViews: string[];
  treeViews: string[];
  messages: string[];
}

export function installVscodeStub(): StubRecord {
  const record: StubRecord = { commands: [], webviewViews: [], treeViews: [], messages: [] };
  class EventEmitter<T> {
    private listeners: Array<(e: T) => void> = [];
    event = (l: (e: T) => void) => {
      this.listeners.push(l);
      return { dispose: () => undefined };
    };
    fire(e: T): void {
      for (const l of this.listeners) l(e);
    }
    dispose(): void {
      this.listeners = [];
    }
  }
  const channel = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, appendLine() {}, show() {}, dispose() {} };
  const api = {
    EventEmitter,
    StatusBarAlignment: { Left: 1, Right: 2 },
    Uri: {
      joinPath: (base: { path: string }, ...parts: string[]) => ({ path: [base.path, ...parts].join('/') }),
      file: (p: string) => ({ path: p }),
    },
    window: {
      createOutputChannel: () => channel,
      createStatusBarItem: () => ({ show() {}, hide() {}, dispose() {}, text: '', tooltip: '', command: '', name: '' }),
      registerWebviewViewProvider: (id: string) => {
        record.webviewViews.push(id);
        return { dispose() {} };
      },
      registerTreeDataProvider: (id: string) => {
        record.treeViews.push(id);
        return { dispose() {} };
      },
      showInformationMessage: async (m: string) => {
        record.messages.push(m);
        return undefined;
      },
      showWarningMessage: async (m: string) => {
        record.messages.push(m);
        return undefined;
      },
      showErrorMessage: async (m: string) => {
        record.messages.push(m);
        return undefined;
      },
    },
    commands: {
      registerCommand: (id: string) => {
        record.commands.push(id);
        return { dispose() {} };
      },
      executeCommand: async () => undefined,
    },
    workspace: { getConfiguration: () => ({ get: (_k: string, d: unknown) => d }), onDidChangeConfiguration: () => ({ dispose() {} }) },
  };
  const mod = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = mod._load;
  mod._load = function (request: string, ...rest: unknown[]) {
    if (request === 'vscode') return api;
    return original.call(this, request, ...rest);
  };
  return record;
}
