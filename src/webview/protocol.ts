/** Messages between the extension host and the Copilot webview. Shared by src/vscode and src/webview. */

export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'error';

export type HostToWebview =
  | { readonly type: 'connection'; readonly state: ConnectionState; readonly message: string }
  | { readonly type: 'error'; readonly message: string };

export type WebviewToHost =
  | { readonly type: 'ready' }
  | { readonly type: 'command'; readonly command: string };
