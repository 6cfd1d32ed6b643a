import { mountCharts } from './charts';
import type { CopilotModel, HostToWebview, RoomView, WebviewToHost } from './protocol';
import { h, renderCopilot, type Dom, type DomElement } from './render';
import { renderRoom, type RoomUiState } from './room';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface SavedState {
  model?: CopilotModel;
  room?: RoomView;
  ui?: RoomUiState;
  connection?: { state: string; message: string };
}

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') as HTMLElement;
const dom = document as unknown as Dom;
const post = (m: WebviewToHost) => vscode.postMessage(m);
let state: SavedState = (vscode.getState() as SavedState | undefined) ?? {};
let disposeCharts: (() => void) | undefined;
let paints = 0;

// a blocked script, style or image is a defect: say it in the extension's log (the e2e asserts there are none)
document.addEventListener('securitypolicyviolation', (e: SecurityPolicyViolationEvent) => {
  post({ type: 'cspViolation', directive: e.effectiveDirective || e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
});

function paint(): void {
  // keep focus on the same control across re-renders, so keyboard users are not thrown to the top
  const focused = document.activeElement instanceof HTMLElement || document.activeElement instanceof SVGElement ? document.activeElement.getAttribute('aria-label') : null;
  disposeCharts?.();
  disposeCharts = undefined;
  let nodes: DomElement[];
  let mount: (() => void) | undefined;
  if (state.room) {
    const room = state.room;
    const ui = state.ui ?? { showAll: false, tables: false };
    const out = renderRoom(dom, room, ui, post, (next) => {
      state = { ...state, ui: next };
      vscode.setState(state);
      paint();
    });
    nodes = out.nodes;
    mount = () => {
      disposeCharts = mountCharts(out.charts, room.markers, ui.scrubT ?? Infinity);
      app.setAttribute('data-paint', String((paints += 1)));
    };
  } else if (state.model) nodes = renderCopilot(dom, state.model, post);
  else if (state.connection) nodes = [h(dom, 'p', { class: state.connection.state === 'error' ? 'error' : 'status', role: 'status' }, state.connection.message)];
  else nodes = [h(dom, 'p', { class: 'status' }, 'Loading…')];
  app.replaceChildren(...(nodes as unknown as Node[]));
  mount?.();
  if (focused) {
    for (const b of Array.from(app.querySelectorAll('[aria-label]'))) if (b.getAttribute('aria-label') === focused && (b instanceof HTMLElement || b instanceof SVGElement)) b.focus();
  }
}

// On a theme change VS Code sets the --vscode-* variables on <html> and swaps the body's class (vscode-dark,
// vscode-light, vscode-high-contrast): the canvases are drawn again, once, in the new colours
let redraw: number | undefined;
const redrawSoon = () => {
  if (!state.room || redraw !== undefined) return;
  redraw = requestAnimationFrame(() => {
    redraw = undefined;
    paint();
  });
};
const themeChanged = new MutationObserver(redrawSoon);
// the charts take the panel's width
window.addEventListener('resize', redrawSoon);
themeChanged.observe(document.body, { attributes: true, attributeFilter: ['class'] });
themeChanged.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'model':
      state = { ...state, model: m.model };
      break;
    case 'room':
      // a new incident starts with the focused timeline and the whole range
      state = { ...state, room: m.room, ui: state.room?.incidentId === m.room.incidentId ? state.ui : undefined };
      break;
    case 'error':
      state = { ...state, connection: { state: 'error', message: m.message }, model: undefined, room: undefined };
      break;
    default:
      return;
  }
  vscode.setState(state);
  paint();
});
paint();
post({ type: 'ready' });
