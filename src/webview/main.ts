import type { CopilotModel, HostToWebview, ReplayView, WebviewToHost } from './protocol';
import { h, renderCopilot, renderReplay, type Dom, type DomElement } from './render';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface SavedState {
  model?: CopilotModel;
  replay?: ReplayView;
  connection?: { state: string; message: string };
}

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') as HTMLElement;
const dom = document as unknown as Dom;
const post = (m: WebviewToHost) => vscode.postMessage(m);
let state: SavedState = (vscode.getState() as SavedState | undefined) ?? {};

function paint(): void {
  // keep focus on the same button across re-renders, so keyboard users are not thrown to the top
  const focused = document.activeElement instanceof HTMLElement ? document.activeElement.getAttribute('aria-label') : null;
  let nodes: DomElement[];
  if (state.replay) nodes = renderReplay(dom, state.replay, post);
  else if (state.model) nodes = renderCopilot(dom, state.model, post);
  else if (state.connection) nodes = [h(dom, 'p', { class: state.connection.state === 'error' ? 'error' : 'status', role: 'status' }, state.connection.message)];
  else nodes = [h(dom, 'p', { class: 'status' }, 'Loading…')];
  app.replaceChildren(...(nodes as unknown as Node[]));
  if (focused) {
    for (const b of Array.from(app.querySelectorAll('button'))) if (b.getAttribute('aria-label') === focused) b.focus();
  }
}

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'model':
      state = { ...state, model: m.model };
      break;
    case 'replay':
      state = { ...state, replay: m.replay };
      break;
    case 'error':
      state = { ...state, connection: { state: 'error', message: m.message }, model: undefined };
      break;
  }
  vscode.setState(state);
  paint();
});
paint();
post({ type: 'ready' });
