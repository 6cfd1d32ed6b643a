import type { HostToWebview, WebviewToHost } from './protocol';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') as HTMLElement;

function render(message: HostToWebview): void {
  app.replaceChildren();
  const p = document.createElement('p');
  // textContent, never innerHTML: every string may come from the cluster
  p.textContent = message.message;
  p.className = message.type === 'error' || (message.type === 'connection' && message.state === 'error') ? 'error' : 'status';
  app.append(p);
}

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => render(event.data));
vscode.postMessage({ type: 'ready' });
